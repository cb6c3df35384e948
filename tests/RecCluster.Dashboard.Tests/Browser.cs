using Microsoft.Playwright;

namespace RecCluster.Dashboard.Tests;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven by Playwright's driver from its NuGet package: no browser
/// is downloaded. A fresh profile folder every time, and the switches that keep Chromium off the network.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private static readonly string[] Switches =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly string _profile;

    private Browser(IPlaywright playwright, IBrowserContext context, string profile) =>
        (_playwright, Context, _profile) = (playwright, context, profile);

    public IBrowserContext Context { get; }

    public static async Task<Browser> StartAsync()
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: apt-get install -y chromium (.ci/run does)");
        var profile = Directory.CreateTempSubdirectory("reccluster-chromium-").FullName;
        var playwright = await Playwright.CreateAsync();
        var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Executable, Headless = true, Args = Switches, ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            Timeout = 30_000,
        });
        context.SetDefaultTimeout(30_000);
        return new Browser(playwright, context, profile);
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        _playwright.Dispose();
        try { Directory.Delete(_profile, recursive: true); }
        catch (IOException) { /* Chromium may still be closing a file of its profile */ }
    }
}
