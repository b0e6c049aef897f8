using Learngene.Data;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests;

/// <summary>Small data sets written by the tests themselves, and access to the real ones.</summary>
static class TestData
{
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "learngene-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>An ImageFolder of noisy RGB squares, one colour per class, in train/ and test/: data of another
    /// size and channel count than the built-in sets, that any network learns in a few steps.</summary>
    public static void WriteColourFolder(string root, int size, int perClass, int classes = 3)
    {
        var rng = new Random(5);
        var colours = Enumerable.Range(0, classes).Select(k => SKColor.FromHsv(360f * k / classes, 80, 85)).ToArray();
        foreach (var split in new[] { "train", "test" })
            for (int k = 0; k < classes; k++)
            {
                string folder = Path.Combine(root, split, $"class{k}");
                Directory.CreateDirectory(folder);
                for (int i = 0; i < perClass; i++)
                {
                    using var bmp = new SKBitmap(size, size);
                    for (int y = 0; y < size; y++)
                        for (int x = 0; x < size; x++)
                        {
                            int noise = rng.Next(-30, 30);
                            var c = colours[k];
                            bmp.SetPixel(x, y, new SKColor(Clamp(c.Red + noise), Clamp(c.Green + noise), Clamp(c.Blue + noise)));
                        }
                    using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
                    File.WriteAllBytes(Path.Combine(folder, $"{i}.png"), data.ToArray());
                }
            }

        static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
    }

    /// <summary>The shared cache the README's commands use (fetched on first use).</summary>
    public static readonly Lazy<DataCatalog> Catalog = new(() => new DataCatalog());

    /// <summary>One data cache for the whole test run, as a command makes one for its runs.</summary>
    public static readonly Lazy<DataCache> Cache = new(() => new DataCache(Catalog.Value));

    static readonly Lazy<DataSplits> fashion = new(() => Kept(Catalog.Value.Load("fashion-mnist")));
    static readonly Lazy<DataSplits> mnist = new(() => Kept(Catalog.Value.Load("mnist")));

    /// <summary>Shared for the whole run: never freed by the dispose scope of the test that first asked.</summary>
    static DataSplits Kept(DataSplits d)
    {
        d.Train.Kept();
        d.Test.Kept();
        return d;
    }
    public static DataSplits FashionMnist => fashion.Value;
    public static DataSplits Mnist => mnist.Value;

    /// <summary>A random in-memory data set whose class is a texture (horizontal stripes, vertical stripes,
    /// checkerboard, blobs…) over noise: learnable by CNNs and ViTs alike, and unchanged by crops and flips.</summary>
    public static ImageDataset Synthetic(int count, int classes = 4, int size = 28, int channels = 1, int seed = 0)
    {
        var gen = new torch.Generator((ulong)seed + 1);
        var labels = torch.randint(0, classes, [count], generator: gen);
        var images = torch.randint(0, 60, [count, channels, size, size], generator: gen).to_type(torch.ScalarType.Float32);
        Tensor Pattern(int k)
        {
            int period = 1 + k / 4;
            var p = new float[size * size];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    p[y * size + x] = (k % 4) switch
                    {
                        0 => y / period % 2,
                        1 => x / period % 2,
                        2 => (x + y) / period % 2,
                        _ => (y / 4 % 2) * (x / 4 % 2),
                    };
            return torch.tensor(p).reshape(size, size);
        }
        var patterns = torch.stack(Enumerable.Range(0, classes).Select(Pattern).ToArray()); // [K, H, W]
        images += 150 * patterns.index_select(0, labels).unsqueeze(1);
        var names = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
        return new ImageDataset("synthetic", images.clamp(0, 255).to_type(torch.ScalarType.Byte), labels, names, flipSafe: true);
    }
}

static class TensorAssertions
{
    /// <summary>Same shape and bitwise-equal values.</summary>
    public static bool SameAs(this torch.Tensor a, torch.Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
}
