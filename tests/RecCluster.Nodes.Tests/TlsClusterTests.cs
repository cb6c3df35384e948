using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;

namespace RecCluster.Nodes.Tests;

/// <summary>
/// Mutual TLS between real node processes on 127.0.0.1, with throwaway certificates from deploy/make-certs.sh: a worker with
/// a certificate from the cluster CA joins and runs trials; one with a certificate from another CA, and one without TLS, are
/// refused (the coordinator's log says so) and never become members.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection("sweep clusters")]
public sealed class TlsClusterTests : IDisposable
{
    private const string Token = "tls-test-token-0123456789";
    private readonly string _certs = Directory.CreateTempSubdirectory("reccluster-certs-").FullName;
    private readonly SweepCluster _cluster;

    public TlsClusterTests()
    {
        MakeCerts(Path.Combine(_certs, "cluster"), "coordinator", "worker");
        MakeCerts(Path.Combine(_certs, "other"), "rogue");
        _cluster = new SweepCluster { CoordinatorArgs = Tls("cluster", "coordinator"), Token = Token };
    }

    public void Dispose()
    {
        _cluster.Dispose();
        Directory.Delete(_certs, recursive: true);
    }

    /// <summary>The repository's script, run as a user would.</summary>
    private static void MakeCerts(string folder, params string[] names)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "deploy", "make-certs.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, folder }.Concat(names)) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "make-certs.sh did not finish within 60 s");
        Assert.True(process.ExitCode == 0, stderr.Result);
    }

    private string[] Tls(string ca, string node) =>
    [
        "--tls-cert", Path.Combine(_certs, ca, $"{node}.pfx"), "--tls-password-file", Path.Combine(_certs, ca, $"{node}.password"),
        "--tls-ca", Path.Combine(_certs, ca, "ca.crt"),
    ];

    [Fact]
    public async Task A_worker_with_the_cluster_certificate_runs_the_trials_and_workers_without_one_are_refused()
    {
        _cluster.StartCoordinator();
        Assert.StartsWith("akka.ssl.tcp://", _cluster.Seed);
        _cluster.Coordinator.WaitForLog("cluster traffic: mutual TLS as 'CN=coordinator");
        var (_, member) = _cluster.StartWorker("worker", [.. Tls("cluster", "worker"), "--simulate-epoch-ms", "20"]);

        // A certificate from another CA: the coordinator refuses it in the handshake, and the rogue node gives up.
        var rogue = _cluster.StartWorkerProcess("rogue", [.. Tls("other", "rogue"), "--simulate-epoch-ms", "20"]);
        _cluster.Coordinator.WaitForLog("TLS: refused");
        Assert.Contains("certificate 'CN=rogue, O=RecCluster'", _cluster.Coordinator.WaitForLog("TLS: refused"));
        Assert.Equal("tls-refused", (string?)rogue.WaitFor("stopped", e => (string?)e["event"] == "stopped")["reason"]);
        Assert.Equal(1, rogue.WaitForExit());
        rogue.WaitForLog("error: a TLS handshake with the cluster failed");

        // No TLS at all: its plain TCP never gets past the coordinator's TLS handshake.
        var plain = _cluster.StartWorkerProcess("plain", ["--simulate-epoch-ms", "20"]);
        _cluster.Coordinator.WaitForLog("due to TLS handshake failure");
        plain.WaitForLog("Association failed with akka.tcp://reccluster@127.0.0.1");

        var id = _cluster.Submit(SweepCluster.TinySweep("tls", epochs: 3));
        var end = _cluster.WaitForEnd(id);
        Assert.Equal(("finished", 4, 4), ((string)end["state"]!, (int)end["trials"]!, (int)end["completed"]!));
        Assert.All(_cluster.Finished(id).Values, row => Assert.Contains(member, row.Node, StringComparison.Ordinal));

        var cluster = _cluster.Get("/api/cluster");
        var members = cluster["members"]!.AsArray().Select(m => (string)m!["address"]!).Order().ToList();
        Assert.Equal(new[] { _cluster.Seed, member }.Order(), members);
        Assert.Equal([member], cluster["workers"]!.AsArray().Select(w => (string)w!["node"]!));
        Assert.False(plain.HasExited);   // still knocking, still not in

        // The token guards the real coordinator's API as it does the in-process one.
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(_cluster.Api, "/api/cluster"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri(_cluster.Api, "/healthz"))).StatusCode);
    }
}
