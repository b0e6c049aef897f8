using Learngene.Data;

namespace Learngene.Tests;

/// <summary>The real MNIST and Fashion-MNIST, fetched from their packages into the shared cache.</summary>
public class RealDataTests
{
    [Fact]
    public void Fashion_mnist_has_6000_and_1000_images_per_class()
    {
        var d = TestData.FashionMnist;
        Assert.Equal(60000, d.Train.Count);
        Assert.Equal(10000, d.Test.Count);
        Assert.All(d.Train.ClassCounts(), c => Assert.Equal(6000, c));
        Assert.All(d.Test.ClassCounts(), c => Assert.Equal(1000, c));
        Assert.Equal("Ankle boot", d.Train.ClassNames[9]);
        Assert.Equal([60000L, 1, 28, 28], d.Train.Images.shape);
    }

    [Fact]
    public void Mnist_has_60000_train_and_10000_test_digits()
    {
        var d = TestData.Mnist;
        Assert.Equal(60000, d.Train.Count);
        Assert.Equal(10000, d.Test.Count);
        Assert.Equal(10, d.Train.Classes);
        Assert.Equal(60000L, d.Train.ClassCounts().Sum());
        Assert.False(d.Train.FlipSafe); // digits are not mirrored
    }

    [Fact]
    public void A_corrupted_cached_file_fails_its_checksum()
    {
        string cache = TestData.TempDir();
        var catalog = new DataCatalog(cache);
        var entry = DataCatalog.Find("mnist");
        string folder = catalog.FolderOf(entry);
        Directory.CreateDirectory(folder);
        string real = TestData.Catalog.Value.FolderOf(entry);
        TestData.Mnist.ToString(); // make sure the real cache exists
        foreach (var f in entry.Files) File.Copy(Path.Combine(real, f.Name), Path.Combine(folder, f.Name));
        string victim = Path.Combine(folder, entry.Files[1].Name);
        var bytes = File.ReadAllBytes(victim);
        bytes[100] ^= 0xff;
        File.WriteAllBytes(victim, bytes);
        var e = Assert.Throws<LearngeneException>(() => catalog.Load("mnist"));
        Assert.Contains("SHA-256", e.Message);
        Assert.StartsWith("corrupt", catalog.Status(entry));
    }
}

/// <summary>Fashion-MNIST comes from its Debian package without apt's package lists.</summary>
public class DebianFetchTests
{
    [Fact]
    public void Fashion_mnist_is_fetched_with_no_apt_lists_and_an_empty_cache()
    {
        string dir = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "lists", "partial"));
        File.WriteAllText(Path.Combine(dir, "apt.conf"), $"Dir::State::Lists \"{dir}/lists\";\n");
        string? apt = Environment.GetEnvironmentVariable("APT_CONFIG"), data = Environment.GetEnvironmentVariable("LEARNGENE_DATA");
        Environment.SetEnvironmentVariable("APT_CONFIG", Path.Combine(dir, "apt.conf")); // apt-get download would fail: no lists
        Environment.SetEnvironmentVariable("LEARNGENE_DATA", Path.Combine(dir, "data"));
        try
        {
            var catalog = new DataCatalog { UseInstalledPackages = false };
            Assert.Equal(Path.Combine(dir, "data"), catalog.CacheDir);
            var log = new List<string>();
            catalog.Fetch("fashion-mnist", log.Add);
            Assert.Equal("ok", catalog.Status(DataCatalog.Find("fashion-mnist")));
            Assert.Contains(log, l => l.Contains("pool/main/d/dataset-fashion-mnist/"));
            Assert.DoesNotContain(log, l => l.Contains("apt-get download"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("APT_CONFIG", apt);
            Environment.SetEnvironmentVariable("LEARNGENE_DATA", data);
        }
    }

    [Fact]
    public void Mirrors_are_read_from_one_line_and_deb822_sources_security_archives_skipped()
    {
        string etc = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(etc, "sources.list.d"));
        File.WriteAllText(Path.Combine(etc, "sources.list"),
            "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\ndeb-src http://src.example/debian bookworm main\n");
        File.WriteAllText(Path.Combine(etc, "sources.list.d", "debian.sources"),
            "Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm\nComponents: main\n\n" +
            "Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\n\n" +
            "Types: deb\nEnabled: no\nURIs: http://off.example/debian\n");
        File.WriteAllText(Path.Combine(etc, "sources.list.d", "other.list"), "deb https://packages.example.com/apt stable main\n");
        File.WriteAllText(Path.Combine(etc, "mirrors.list"), "https://cloud.example/debian\tpriority:1\n");
        File.WriteAllText(Path.Combine(etc, "sources.list.d", "zz-cloud.sources"), $"Types: deb\nURIs: mirror+file://{etc}/mirrors.list\nSuites: bookworm\n");
        Assert.Equal(["http://mirror.example/debian", "http://deb.example/debian", "https://cloud.example/debian", DebianArchive.DefaultMirror], DebianArchive.Mirrors(etc));
    }
}
