using Xunit.Abstractions;
using Xunit.Sdk;

namespace RecCluster.Dashboard.Tests;

/// <summary>
/// Runs a class's tests in the order of their names: the tests share one sweep, and the one that watches it run must come
/// before those that wait for its end.
/// </summary>
public sealed class ByName : ITestCaseOrderer
{
    public const string Type = "RecCluster.Dashboard.Tests.ByName";
    public const string Assembly = "RecCluster.Dashboard.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.Name, StringComparer.Ordinal);
}
