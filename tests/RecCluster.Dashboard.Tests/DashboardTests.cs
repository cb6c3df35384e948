using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace RecCluster.Dashboard.Tests;

/// <summary>
/// The dashboard in Chromium against a coordinator running a real sweep: what the pages show is what the API answers, curves have
/// a point per validation epoch, and a running sweep moves on the page through the event stream. Screenshots of every page go to
/// the test output folder (and to $RECCLUSTER_SCREENSHOTS when set: see docs/dashboard.md).
/// </summary>
[TestCaseOrderer(ByName.Type, ByName.Assembly)]
public sealed class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private const string Metric = "ndcg@10";

    // The plotted points of every trial's validation curve, and the latest epochs in the leaderboard table, as the page has them.
    private const string CurvePoints = """
        () => { const c = echarts.getInstanceByDom(document.getElementById('curve-valid'));
                return c ? c.getOption().series.reduce((a, s) => a + s.data.length, 0) : 0; }
        """;
    private const string TableEpochs = """
        () => [...document.querySelectorAll('#leaderboard td[data-col="epoch"]')].reduce((a, td) => a + Number(td.dataset.value || 0), 0)
        """;

    private string Id => fixture.SweepId;

    /// <summary>A new tab at <paramref name="fragment"/> (#/sweep/ID, ...), given the API token in its address as #token=...</summary>
    private async Task<IPage> Open(string fragment)
    {
        var page = await fixture.Browser.Context.NewPageAsync();
        Watch(page);
        await page.GotoAsync(new Uri(fixture.Url, $"/#token={DashboardFixture.Token}&{fragment.TrimStart('#')}").ToString());
        // Loaded at once and again when the event stream says hello; the first load may be dropped if the second overtakes it.
        await page.WaitForFunctionAsync(
            "() => window.dashboard.loads >= 1 && window.dashboard.types.hello >= 1 && !window.dashboard.routing");
        return page;
    }

    [Fact]
    public async Task A_a_running_sweep_moves_on_its_page_without_reloading()
    {
        // Trial 0 has stored an epoch and three trials follow it: the sweep runs for a while yet.
        fixture.Cluster.WaitUntil("an epoch of trial 0", () => fixture.Cluster.History(Id, 0) is { Count: > 0 } h ? h : null,
            TimeSpan.FromSeconds(90));
        var page = await Open($"#/sweep/{Id}");
        Assert.Equal("running", await page.InnerTextAsync("#sweep-cards .card b"));
        var loads = await page.EvaluateAsync<int>("window.dashboard.loads");
        var (points, epochs) = (await page.EvaluateAsync<int>(CurvePoints), await page.EvaluateAsync<int>(TableEpochs));

        await page.WaitForFunctionAsync($"n => ({CurvePoints})() > n.points && ({TableEpochs})() > n.epochs", new { points, epochs },
            new PageWaitForFunctionOptions { Timeout = 90_000 });
        Assert.Equal(loads, await page.EvaluateAsync<int>("window.dashboard.loads"));   // moved by events, not by a reload
        Assert.True(await page.EvaluateAsync<int>("window.dashboard.types.epoch || 0") > 0);
        await page.CloseAsync();
    }

    [Fact]
    public async Task B_the_leaderboard_rows_are_the_APIs()
    {
        fixture.Cluster.WaitForEnd(Id);
        var api = fixture.Get($"/api/sweeps/{Id}/leaderboard?top=1000")["rows"]!.AsArray().Select(r => Row(
            (int)r!["trial"]!["index"]!, (string)r["trial"]!["status"]!, (int)r["trial"]!["best_epoch"]!,
            r["valid"]!.AsObject().Concat(r["test"]!.AsObject().Select(m => KeyValuePair.Create("test:" + m.Key, m.Value)))
                .ToDictionary(m => m.Key.StartsWith("test:") ? m.Key : "valid:" + m.Key, m => (double)m.Value!))).ToList();
        int trials = fixture.Get($"/api/sweeps/{Id}/trials")["trials"]!.AsArray().Count;
        Assert.Equal(4, trials);
        Assert.NotEmpty(api);

        var page = await Open($"#/sweep/{Id}");
        await page.WaitForFunctionAsync("n => document.querySelectorAll('#leaderboard tbody tr').length === n", trials);
        var cells = await page.EvaluateAsync<Dictionary<string, string>[]>("""
            () => [...document.querySelectorAll('#leaderboard tbody tr')].map(tr => Object.fromEntries(
                [...tr.querySelectorAll('td[data-col]')].map(td => [td.dataset.col, td.dataset.value ?? td.textContent])))
            """);
        var shown = cells.Where(c => c[$"valid:{Metric}"] != "").Select(c => Row(int.Parse(c["trial"], CultureInfo.InvariantCulture),
            c["status"], int.Parse(c["best_epoch"], CultureInfo.InvariantCulture),
            c.Where(kv => kv.Key.StartsWith("valid:") || kv.Key.StartsWith("test:")).Where(kv => kv.Value != "")
                .ToDictionary(kv => kv.Key, kv => double.Parse(kv.Value, CultureInfo.InvariantCulture)))).ToList();
        // Same rows, same order (best first by the objective), same metrics to the last digit.
        Assert.Equal(api, shown);
        await page.CloseAsync();
    }

    [Fact]
    public async Task C_each_learning_curve_has_one_point_per_validation_epoch()
    {
        fixture.Cluster.WaitForEnd(Id);
        var curves = fixture.Get($"/api/sweeps/{Id}/curves")["trials"]!.AsArray().ToDictionary(t => (int)t!["trial"]!,
            t => (Status: (string)t!["status"]!, Epochs: t["epochs"]!.AsArray().Where(e => e!["valid"]![Metric] is not null)
                .Select(e => (int)e!["epoch"]!).Distinct().Order().ToList()));
        var page = await Open($"#/sweep/{Id}");
        var plotted = await page.EvaluateAsync<Dictionary<string, int[]>>("""
            () => Object.fromEntries(echarts.getInstanceByDom(document.getElementById('curve-valid')).getOption().series
                .map(s => [s.name, s.data.map(d => (Array.isArray(d) ? d : d.value)[0])]))
            """);
        Assert.Equal(curves.Keys.Order().Select(k => $"trial {k}"), plotted.Keys.Order());
        foreach (var (trial, curve) in curves)
        {
            Assert.Equal(curve.Epochs, plotted[$"trial {trial}"]);
            // ASHA's pruned trials end early; the others run every epoch.
            if (curve.Status == "completed") Assert.Equal(DashboardFixture.Epochs, curve.Epochs.Count);
            else Assert.True(curve.Epochs.Count < DashboardFixture.Epochs,
                $"trial {trial} is {curve.Status} after {curve.Epochs.Count} epochs");
        }

        // Pruned trials (the narrow model's) are drawn dashed, cut off where ASHA stopped them.
        var dashed = await page.EvaluateAsync<string[]>("""
            () => echarts.getInstanceByDom(document.getElementById('curve-valid')).getOption().series
                .filter(s => s.lineStyle.type === 'dashed').map(s => s.name)
            """);
        var pruned = curves.Where(c => c.Value.Status == "pruned").Select(c => $"trial {c.Key}").ToList();
        Assert.NotEmpty(pruned);
        Assert.Equal(pruned.Order(), dashed.Order());

        // One trial's own page: the same points.
        var best = (int)fixture.Get($"/api/sweeps/{Id}")["best"]!["trial"]!;
        var trialPage = await Open($"#/trial/{Id}/{best}");
        var points = await trialPage.EvaluateAsync<int[]>($$"""
            () => echarts.getInstanceByDom(document.getElementById('trial-curve')).getOption().series
                .find(s => s.name === 'valid {{Metric}}').data.map(d => d[0])
            """);
        Assert.Equal(curves[best].Epochs, points);
        await page.CloseAsync();
        await trialPage.CloseAsync();
    }

    [Fact]
    public async Task D_every_page_shows_the_API_s_data_and_is_photographed()
    {
        fixture.Cluster.WaitForEnd(Id);
        var folder = DashboardFixture.Screenshots;
        Directory.CreateDirectory(folder);
        var status = fixture.Get($"/api/sweeps/{Id}");
        int best = (int)status["best"]!["trial"]!;

        var sweeps = await Open("#/");
        Assert.Equal("finished", await sweeps.InnerTextAsync($"tr[data-sweep='{Id}'] td[data-col='status']"));
        await Shoot(sweeps, Path.Combine(folder, "sweeps.png"));

        var sweep = await Open($"#/sweep/{Id}");
        Assert.Equal("best", await sweep.GetAttributeAsync($"#leaderboard tr[data-trial='{best}']", "class"));
        // Seed groups: finished trials alike but for sample_seed, as many as the API's rows make.
        var groups = fixture.Get($"/api/sweeps/{Id}/leaderboard?top=1000")["rows"]!.AsArray()
            .GroupBy(r => r!["trial"]!["params"]!["hidden_size"]!.ToJsonString()).Count(g => g.Count() > 1);
        Assert.Equal(groups, await sweep.Locator("#seed-groups tbody tr").CountAsync());
        await Shoot(sweep, Path.Combine(folder, "sweep.png"));

        var trial = await Open($"#/trial/{Id}/{best}");
        Assert.Equal(fixture.Get($"/api/sweeps/{Id}/trials/{best}")["epochs"]!.AsArray().Count,
            await trial.Locator("#epochs tbody tr").CountAsync());
        await Shoot(trial, Path.Combine(folder, "trial.png"));

        var cluster = await Open("#/cluster");
        var api = fixture.Get("/api/cluster");
        Assert.Equal("cluster", await cluster.GetAttributeAsync("#mode", "data-mode"));
        Assert.Equal(api["workers"]!.AsArray().Count, await cluster.Locator("#workers tbody tr").CountAsync());
        Assert.Equal(api["members"]!.AsArray().Count, await cluster.Locator("#members tbody tr").CountAsync());
        await Shoot(cluster, Path.Combine(folder, "cluster.png"));
    }

    [Fact]
    public async Task E_without_the_token_the_page_gets_no_data_and_with_it_the_data_comes()
    {
        fixture.Cluster.WaitForEnd(Id);
        var page = await fixture.Browser.Context.NewPageAsync();   // a new tab: nothing in its sessionStorage
        Watch(page);
        var answers = new List<(string Url, int Status)>();
        page.Response += (_, r) =>
        {
            if (new Uri(r.Url).AbsolutePath.StartsWith("/api/")) lock (answers) answers.Add((r.Url, r.Status));
        };
        await page.GotoAsync(new Uri(fixture.Url, $"/#/sweep/{Id}").ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('live').textContent === 'no token' " +
            "&& !document.getElementById('notice').hidden");
        Assert.Contains("needs a token", await page.InnerTextAsync("#notice"));
        Assert.Equal(0, await page.Locator("#leaderboard").CountAsync());
        Assert.Equal(0, await page.EvaluateAsync<int>("window.dashboard.loads + window.dashboard.events"));
        Assert.Equal(401, await page.EvaluateAsync<int>("async () => (await fetch('/api/sweeps')).status"));
        lock (answers) Assert.DoesNotContain(answers, a => a.Status != 401);

        // The token typed into the page's field: the stream connects and the page loads.
        await page.FillAsync("#token", DashboardFixture.Token);
        await page.ClickAsync("#token-form button");
        await page.WaitForFunctionAsync(
            "() => document.querySelectorAll('#leaderboard tbody tr').length === 4 && window.dashboard.types.hello >= 1");
        Assert.True(await page.Locator("#notice").IsHiddenAsync());
        await page.CloseAsync();
    }

    /// <summary>Console messages about the Content-Security-Policy from every page opened (none expected).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentQueue<string> PolicyViolations = new();

    private static void Watch(IPage page) => page.Console += (_, m) =>
    {
        if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) PolicyViolations.Enqueue(m.Text);
    };

    [Fact]
    public void F_no_page_broke_the_content_security_policy() => Assert.Empty(PolicyViolations);

    private static async Task Shoot(IPage page, string path)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 10_000, $"{path} is nearly empty");
        DashboardFixture.Publish(path);
        await page.CloseAsync();
    }

    private static string Row(int trial, string status, int bestEpoch, Dictionary<string, double> metrics) =>
        $"{trial} {status} {bestEpoch} " + string.Join(" ", metrics.OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => $"{m.Key}={m.Value.ToString("R", CultureInfo.InvariantCulture)}"));
}
