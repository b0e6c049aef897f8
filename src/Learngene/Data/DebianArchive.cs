namespace Learngene.Data;

/// <summary>Downloads a Debian package by its pool path from the mirror apt's own sources name, without
/// apt's package lists (so without root and without <c>apt-get update</c>). The caller pins the file's
/// SHA-256, so any mirror serving the path is as good as another.</summary>
public static class DebianArchive
{
    /// <summary>Used when no apt source names a Debian archive (not a Debian machine, or only other repositories).</summary>
    public const string DefaultMirror = "http://deb.debian.org/debian";

    /// <summary>The Debian archive URIs of apt's one-line (<c>sources.list</c>, <c>*.list</c>) and deb822
    /// (<c>*.sources</c>) files under <paramref name="aptEtc"/>, in file order, the default mirror last.
    /// Security and other suites' archives are skipped: the pool of the main archive holds the package.</summary>
    public static IReadOnlyList<string> Mirrors(string aptEtc = "/etc/apt")
    {
        var files = new List<string>();
        string list = Path.Combine(aptEtc, "sources.list");
        if (File.Exists(list)) files.Add(list);
        string parts = Path.Combine(aptEtc, "sources.list.d");
        if (Directory.Exists(parts))
            files.AddRange(Directory.GetFiles(parts).Where(f => f.EndsWith(".list") || f.EndsWith(".sources")).Order(StringComparer.Ordinal));
        var uris = new List<string>();
        foreach (var f in files)
        {
            string text;
            try { text = File.ReadAllText(f); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            uris.AddRange(f.EndsWith(".sources") ? Deb822Uris(text) : OneLineUris(text));
        }
        return uris.SelectMany(MirrorList).Where(IsDebianArchive).Append(DefaultMirror).Select(u => u.TrimEnd('/')).Distinct().ToArray();
    }

    /// <summary>apt's <c>mirror+file:/PATH</c> (Debian's cloud images) names a file listing mirrors, one per
    /// line (optionally followed by tab-separated priorities); other URIs stand for themselves.</summary>
    static IEnumerable<string> MirrorList(string uri)
    {
        const string prefix = "mirror+file:";
        if (!uri.StartsWith(prefix, StringComparison.Ordinal)) return [uri];
        string path = uri[prefix.Length..];
        if (path.StartsWith("//", StringComparison.Ordinal)) path = path[2..];
        try
        {
            return File.ReadAllLines(path).Select(l => l.Split('#')[0].Split('\t')[0].Trim()).Where(l => l.Length > 0).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>"deb [options] URI suite components…" lines.</summary>
    public static IEnumerable<string> OneLineUris(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Split('#')[0].Trim();
            if (!line.StartsWith("deb ", StringComparison.Ordinal) && !line.StartsWith("deb\t", StringComparison.Ordinal)) continue;
            string rest = line[3..].Trim();
            if (rest.StartsWith('['))
            {
                int close = rest.IndexOf(']');
                if (close < 0) continue;
                rest = rest[(close + 1)..].Trim();
            }
            string uri = rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            if (uri.Length > 0) yield return uri;
        }
    }

    /// <summary>Stanzas of "Key: value" fields separated by blank lines; "URIs:" of stanzas whose "Types:"
    /// include deb and that are not "Enabled: no".</summary>
    public static IEnumerable<string> Deb822Uris(string text)
    {
        foreach (var stanza in text.Replace("\r", "").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? last = null;
            foreach (var line in stanza.Split('\n'))
            {
                if (line.StartsWith('#') || line.Trim().Length == 0) continue;
                if ((line.StartsWith(' ') || line.StartsWith('\t')) && last is not null) { fields[last] += " " + line.Trim(); continue; }
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                last = line[..colon].Trim();
                fields[last] = line[(colon + 1)..].Trim();
            }
            if (!fields.TryGetValue("Types", out var types) || !types.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("deb")) continue;
            if (fields.TryGetValue("Enabled", out var enabled) && enabled.Equals("no", StringComparison.OrdinalIgnoreCase)) continue;
            if (!fields.TryGetValue("URIs", out var uris)) continue;
            foreach (var u in uris.Split(' ', StringSplitOptions.RemoveEmptyEntries)) yield return u;
        }
    }

    /// <summary>An http(s) archive whose last path segment is "debian" (deb.debian.org/debian, a local
    /// mirror's …/debian, snapshot.debian.org/archive/debian/DATE is recognised by its "debian" segment).</summary>
    static bool IsDebianArchive(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https")) return false;
        var segments = u.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Contains("debian");
    }

    /// <summary>Downloads <paramref name="poolPath"/> (e.g. pool/main/d/…/x_1.0_all.deb) into
    /// <paramref name="destination"/> from the first mirror that serves it with the expected checksum.</summary>
    public static void Download(string poolPath, string sha256, string destination, IReadOnlyList<string> mirrors, Action<string>? log = null)
    {
        var failures = new List<string>();
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        foreach (var mirror in mirrors)
        {
            string url = $"{mirror}/{poolPath}";
            try
            {
                log?.Invoke($"downloading {url}");
                using (var response = http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult())
                {
                    if (!response.IsSuccessStatusCode) { failures.Add($"{url}: HTTP {(int)response.StatusCode}"); continue; }
                    using var body = response.Content.ReadAsStream();
                    using var file = File.Create(destination);
                    body.CopyTo(file);
                }
                string actual = DataCatalog.Sha256(destination);
                if (actual == sha256) return;
                failures.Add($"{url}: SHA-256 {actual[..12]}…, expected {sha256[..12]}…");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                failures.Add($"{url}: {e.Message}");
            }
        }
        if (File.Exists(destination)) File.Delete(destination);
        throw new LearngeneException($"could not download {Path.GetFileName(poolPath)} from any Debian mirror ({string.Join("; ", failures)})");
    }
}
