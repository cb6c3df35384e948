using System.Security.Cryptography;
using System.Text;

namespace RecCluster.Api;

/// <summary>
/// The shared secret every <c>/api</c> request must carry as <c>Authorization: Bearer &lt;token&gt;</c>. It is never printed:
/// <see cref="ToString"/> hides it, and only its SHA-256 is kept, so comparing costs the same whatever the guess.
/// </summary>
public sealed class ApiToken
{
    /// <summary>The environment variable the coordinator and the CLI clients read it from.</summary>
    public const string Variable = "RECCLUSTER_TOKEN";

    /// <summary>The environment variable naming a file that holds it (container secrets are files).</summary>
    public const string FileVariable = "RECCLUSTER_TOKEN_FILE";

    /// <summary>Shortest token accepted: anything shorter could be guessed over the network.</summary>
    public const int MinLength = 16;

    private const string Scheme = "Bearer ";
    private readonly byte[] _hash;

    private ApiToken(string token) => _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>A token from text (surrounding whitespace, e.g. a file's final newline, is not part of it).</summary>
    /// <param name="where">Names the source in the error, e.g. "--token-file /run/secrets/token".</param>
    /// <exception cref="FormatException">Empty, too short, or with whitespace or control characters inside.</exception>
    public static ApiToken Parse(string text, string where)
    {
        var token = text.Trim();
        if (token.Length < MinLength)
            throw new FormatException($"{where}: the token must be at least {MinLength} characters (e.g. `openssl rand -hex 32`)");
        if (!IsOneWord(token))
            throw new FormatException($"{where}: the token must be one line without spaces");
        return new ApiToken(token);
    }

    /// <summary>Whether a text could be a token as sent: not empty, no whitespace or control characters (a header value).</summary>
    public static bool IsOneWord(string token) => token.Length > 0 && !token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>Reads a token file.</summary>
    /// <exception cref="FormatException">Unreadable or not a token; the message names the file.</exception>
    public static ApiToken FromFile(string path, string flag)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"{flag} {path}: {e.Message}");
        }
        return Parse(text, $"{flag} {path}");
    }

    /// <summary>Whether an Authorization header value is <c>Bearer</c> this token; constant time in the guess.</summary>
    public bool Accepts(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var guess = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[Scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(guess, _hash);
    }

    /// <summary>Never the token itself (it would end up in logs).</summary>
    public override string ToString() => "ApiToken(hidden)";
}
