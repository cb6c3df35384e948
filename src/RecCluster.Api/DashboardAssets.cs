using System.Collections.Frozen;
using System.IO.Compression;
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

    /// <summary>A file kept gzipped in the source tree (the vendored library: 1.1 MB plain, a third of that gzipped).</summary>
    private const string Gzipped = ".gz";

    /// <summary>
    /// Every built-in file by the path it is served at (index.html, assets/app.js, ...), with its bytes, type and whether the
    /// bytes are gzipped (a file built in as NAME.gz is served at NAME).
    /// </summary>
    public static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType, bool Gzip)> Files = Load();

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
        app.MapGet("/", (HttpContext http) => Serve("index.html", http));
        app.MapGet("/assets/{**name}", (string name, HttpContext http) => Serve("assets/" + name, http));
    }

    private static IResult Serve(string path, HttpContext http)
    {
        if (!Files.TryGetValue(path, out var file)) return Results.NotFound();
        if (!file.Gzip) return Results.Bytes(file.Bytes, file.ContentType);
        http.Response.Headers.Vary = "Accept-Encoding";
        if (http.Request.Headers.AcceptEncoding.Any(e => e?.Contains("gzip", StringComparison.OrdinalIgnoreCase) == true))
        {
            http.Response.Headers.ContentEncoding = "gzip";
            return Results.Bytes(file.Bytes, file.ContentType);
        }
        // Every browser takes gzip; a plain client gets the file unpacked as it is sent.
        return Results.Stream(new GZipStream(new MemoryStream(file.Bytes), CompressionMode.Decompress), file.ContentType);
    }

    private static FrozenDictionary<string, (byte[], string, bool)> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToFrozenDictionary(
            n => Served(n),
            n => (Read(assembly, n), ContentTypes.GetValueOrDefault(Path.GetExtension(Served(n)), "application/octet-stream"),
                n.EndsWith(Gzipped, StringComparison.Ordinal)));

        static string Served(string resource) => resource[Prefix.Length..(resource.EndsWith(Gzipped, StringComparison.Ordinal)
            ? ^Gzipped.Length : ^0)];
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
