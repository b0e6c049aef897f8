using Learngene.Data;
using SkiaSharp;

namespace Learngene.Tests;

/// <summary>The readers on small files written here in each format.</summary>
public class DataReaderTests
{
    static void WriteIdxSet(string dir, bool gzip, int n = 12, int size = 6)
    {
        var rng = new Random(1);
        string ext = gzip ? ".gz" : "";
        foreach (var prefix in new[] { "train", "t10k" })
        {
            var pixels = new byte[n * size * size];
            rng.NextBytes(pixels);
            IdxReader.Write(Path.Combine(dir, $"{prefix}-images-idx3-ubyte{ext}"), [n, size, size], pixels, gzip);
            IdxReader.Write(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte{ext}"), [n], Enumerable.Range(0, n).Select(i => (byte)(i % 3)).ToArray(), gzip);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_reader_reads_raw_and_gzipped_files(bool gzip)
    {
        string dir = TestData.TempDir();
        WriteIdxSet(dir, gzip);
        var (shape, data) = IdxReader.Read(Path.Combine(dir, "train-images-idx3-ubyte" + (gzip ? ".gz" : "")));
        Assert.Equal([12, 6, 6], shape);
        Assert.Equal(12 * 36, data.Length);
        var splits = IdxDataset.Load(dir, "tiny");
        Assert.Equal(12, splits.Train.Count);
        Assert.Equal(3, splits.Train.Classes);
        Assert.Equal([4L, 4, 4], splits.Train.ClassCounts());
        Assert.Equal(1, splits.Train.Channels);
    }

    [Fact]
    public void Truncated_idx_file_is_rejected_with_its_name()
    {
        string dir = TestData.TempDir();
        WriteIdxSet(dir, gzip: false);
        string path = Path.Combine(dir, "train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^7]);
        var e = Assert.Throws<LearngeneException>(() => IdxDataset.Load(dir, "tiny"));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Idx_file_with_a_bad_magic_number_is_rejected()
    {
        string path = Path.Combine(TestData.TempDir(), "bad");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Contains("magic", Assert.Throws<LearngeneException>(() => IdxReader.Read(path)).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cifar_binary_reader_reads_labels_and_planes(bool cifar100)
    {
        string dir = TestData.TempDir();
        int labelBytes = cifar100 ? 2 : 1, classes = cifar100 ? 100 : 10;
        byte[] Records(int n, int offset)
        {
            var bytes = new byte[n * (labelBytes + 3072)];
            for (int i = 0; i < n; i++)
            {
                int o = i * (labelBytes + 3072);
                bytes[o + labelBytes - 1] = (byte)((i + offset) % classes);
                bytes[o + labelBytes] = 200;                 // first red pixel
                bytes[o + labelBytes + 1024] = 100;          // first green pixel
            }
            return bytes;
        }
        if (cifar100)
        {
            File.WriteAllBytes(Path.Combine(dir, "train.bin"), Records(5, 0));
            File.WriteAllBytes(Path.Combine(dir, "test.bin"), Records(3, 1));
        }
        else
        {
            for (int b = 1; b <= 5; b++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), Records(2, b));
            File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(3, 0));
        }
        var splits = CifarDataset.Load(dir, cifar100);
        Assert.Equal(cifar100 ? 5 : 10, splits.Train.Count);
        Assert.Equal(3, splits.Test.Count);
        Assert.Equal(classes, splits.Train.Classes);
        Assert.Equal(3, splits.Train.Channels);
        Assert.Equal(32, splits.Train.ImageSize);
        Assert.Equal(200, splits.Train.Images[0, 0, 0, 0].item<byte>());
        Assert.Equal(100, splits.Train.Images[0, 1, 0, 0].item<byte>());
        Assert.Equal(cifar100 ? 2L : 1L, splits.Test.Labels[1].item<long>()); // record 1 of the test file
    }

    [Fact]
    public void Truncated_cifar_file_is_rejected()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "train.bin"), new byte[3074 * 2 - 1]);
        File.WriteAllBytes(Path.Combine(dir, "test.bin"), new byte[3074]);
        Assert.Contains("truncated", Assert.Throws<LearngeneException>(() => CifarDataset.Load(dir, cifar100: true)).Message);
    }

    static void WritePng(string path, int size, SKColor color)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bmp = new SKBitmap(size, size);
        bmp.Erase(color);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void Image_folder_with_train_and_test_subfolders_resizes_and_keeps_rgb()
    {
        string root = TestData.TempDir();
        foreach (var split in new[] { "train", "test" })
        {
            WritePng(Path.Combine(root, split, "cat", "a.png"), 20, new SKColor(255, 0, 0));
            WritePng(Path.Combine(root, split, "dog", "b.png"), 20, new SKColor(0, 0, 255));
        }
        var splits = ImageFolderDataset.Load(root, size: 8);
        Assert.Equal(["cat", "dog"], splits.Train.ClassNames);
        Assert.Equal(3, splits.Train.Channels);
        Assert.Equal(8, splits.Train.ImageSize);
        Assert.Equal(255, splits.Train.Images[0, 0, 4, 4].item<byte>());
        Assert.Equal(255, splits.Train.Images[1, 2, 4, 4].item<byte>());
        Assert.Equal(2, splits.Test.Count);
    }

    [Fact]
    public void Image_folder_without_splits_is_split_by_ratio_and_grey_stays_grey()
    {
        string root = TestData.TempDir();
        for (int i = 0; i < 10; i++)
        {
            WritePng(Path.Combine(root, "zero", $"{i}.png"), 12, new SKColor(10, 10, 10));
            WritePng(Path.Combine(root, "one", $"{i}.png"), 12, new SKColor(240, 240, 240));
        }
        var splits = ImageFolderDataset.Load(root, testFraction: 0.25);
        Assert.Equal(1, splits.Train.Channels);
        Assert.Equal(12, splits.Train.ImageSize);
        Assert.Equal(5, splits.Test.Count);
        Assert.Equal(15, splits.Train.Count);
    }

    [Fact]
    public void Data_source_names_an_unknown_kind()
    {
        var e = Assert.Throws<LearngeneException>(() => DataSource.Load("tfrecord:/x", new DataCatalog(TestData.TempDir())));
        Assert.Contains("unknown data kind", e.Message);
        Assert.Contains("unknown data set", Assert.Throws<LearngeneException>(() => DataSource.Load("imagenet", new DataCatalog(TestData.TempDir()))).Message);
    }

    [Fact]
    public void Adapting_resizes_and_converts_channels()
    {
        var d = TestData.Synthetic(10, size: 28);
        var rgb32 = d.Adapt(32, 3);
        Assert.Equal([10L, 3, 32, 32], rgb32.Images.shape);
        Assert.True(rgb32.Images[.., 0].SameAs(rgb32.Images[.., 2]));
        Assert.Equal([10L, 1, 32, 32], rgb32.Adapt(32, 1).Images.shape);
    }
}
