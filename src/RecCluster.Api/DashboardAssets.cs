using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RecCluster.Api;

/// <summary>
/// The dashboard's pages, built into this assembly as embedded resources (wwwroot/ in the project): <c>GET /</c> is the page,
/// <c>GET /assets/NAME</c> its script, style and the vendored plotting library with its licence. Only the files built in are
/// served (a closed set: no path is ever joined to a folder), so nothing is read from disk and nothing from the internet.
/// </summary>
public static class DashboardAssets
{
    private const string Prefix = "wwwroot/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary();

    /// <summary>Every built-in file by its path under wwwroot/ (index.html, assets/app.js, ...), with its bytes and type.</summary>
    public static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Files = Load();

    /// <summary>
    /// The pages' Content-Security-Policy: scripts and everything else from this server only (no inline script), never framed.
    /// Inline styles are allowed: without them Chromium reports "Applying inline style violates ..." on the pages (the plotting
    /// library writes style attributes), which DashboardTests.F checks.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static void Map(WebApplication app)
    {
        // On every response (pages, scripts, API answers): no type sniffing, no framing, no foreign script.
        app.Use(async (http, next) =>
        {
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            await next(http);
        });
        app.MapGet("/", () => Serve("index.html"));
        app.MapGet("/assets/{**name}", (string name) => Serve("assets/" + name));
    }

    private static IResult Serve(string path) => Files.TryGetValue(path, out var file)
        ? Results.Bytes(file.Bytes, file.ContentType)
        : Results.NotFound();

    private static FrozenDictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToFrozenDictionary(
            n => n[Prefix.Length..],
            n => (Read(assembly, n), ContentTypes.GetValueOrDefault(Path.GetExtension(n), "application/octet-stream")));
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
