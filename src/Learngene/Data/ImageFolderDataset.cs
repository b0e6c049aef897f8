using SkiaSharp;
using TorchSharp;

namespace Learngene.Data;

/// <summary>An ImageFolder layout: <c>root/class_name/*.png|jpg</c>, either with <c>train/</c> and
/// <c>test/</c> subfolders of that shape or one such tree split by a seeded ratio. Images are decoded
/// with SkiaSharp, resized to a square size (default: the first image's width), and kept greyscale when
/// every image is grey, RGB otherwise.</summary>
public static class ImageFolderDataset
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    public static DataSplits Load(string root, int? size = null, double testFraction = 0.2, int seed = 0)
    {
        if (!Directory.Exists(root)) throw new LearngeneException($"image folder not found: {root}");
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)));
        string trainDir = Path.Combine(root, "train"), testDir = Path.Combine(root, "test");
        List<(string Path, int Label)> train, test;
        string[] classes;
        if (Directory.Exists(trainDir) && Directory.Exists(testDir))
        {
            classes = ClassFolders(trainDir);
            train = List(trainDir, classes);
            test = List(testDir, classes);
        }
        else
        {
            if (testFraction <= 0 || testFraction >= 1) throw new LearngeneException($"test fraction must be between 0 and 1 (got {testFraction})");
            classes = ClassFolders(root);
            var all = List(root, classes);
            var rng = new Random(seed);
            var shuffled = all.OrderBy(_ => rng.Next()).ToList();
            int nTest = Math.Max(1, (int)Math.Round(all.Count * testFraction));
            test = shuffled.Take(nTest).ToList();
            train = shuffled.Skip(nTest).ToList();
        }
        if (train.Count == 0) throw new LearngeneException($"{root}: no training images found (expected {string.Join("/", Extensions)} files under class folders)");
        int side = size ?? FirstWidth(train[0].Path);
        var trainPixels = Decode(train, side);
        var testPixels = Decode(test, side);
        bool grey = trainPixels.AllGrey && testPixels.AllGrey;
        return new DataSplits(
            ToDataset(name, train, trainPixels.Rgb, side, grey, classes),
            ToDataset(name, test, testPixels.Rgb, side, grey, classes));
    }

    static string[] ClassFolders(string dir)
    {
        var classes = Directory.GetDirectories(dir).Select(Path.GetFileName).OfType<string>()
            .Where(n => n is not ("train" or "test")).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new LearngeneException($"{dir}: no class folders (expected {dir}/CLASS_NAME/*.png)");
        return classes;
    }

    static List<(string, int)> List(string dir, string[] classes)
    {
        var items = new List<(string, int)>();
        for (int c = 0; c < classes.Length; c++)
        {
            string classDir = Path.Combine(dir, classes[c]);
            if (!Directory.Exists(classDir)) continue;
            items.AddRange(Directory.EnumerateFiles(classDir)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .OrderBy(f => f, StringComparer.Ordinal).Select(f => (f, c)));
        }
        return items;
    }

    /// <summary>Images larger than this many pixels are refused before decoding (a header can claim anything).</summary>
    const long MaxPixels = 64L << 20;

    /// <summary>Decodes one image after checking what its header claims.</summary>
    static SKBitmap Open(string path)
    {
        using (var codec = SKCodec.Create(path) ?? throw new LearngeneException($"{path}: not a readable image (unknown format, truncated or damaged)"))
        {
            if (codec.Info.Width <= 0 || codec.Info.Height <= 0 || (long)codec.Info.Width * codec.Info.Height > MaxPixels)
                throw new LearngeneException($"{path}: its header claims {codec.Info.Width}x{codec.Info.Height} pixels (refused: more than {MaxPixels >> 20} M or empty)");
        }
        return SKBitmap.Decode(path) ?? throw new LearngeneException($"{path}: not a readable image (truncated or damaged)");
    }

    static int FirstWidth(string path)
    {
        using var bmp = Open(path);
        if (bmp.Width != bmp.Height) throw new LearngeneException($"{path} is {bmp.Width}x{bmp.Height}: non-square images need an image size to be resized to", setting: "image-size");
        return bmp.Width;
    }

    static (byte[] Rgb, bool AllGrey) Decode(List<(string Path, int Label)> items, int side)
    {
        var rgb = new byte[(long)items.Count * 3 * side * side];
        bool allGrey = true;
        int plane = side * side;
        for (int i = 0; i < items.Count; i++)
        {
            using var src = Open(items[i].Path);
            using var img = src.Width == side && src.Height == side && src.ColorType == SKColorType.Rgba8888
                ? src.Copy()
                : src.Resize(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                  ?? throw new LearngeneException($"{items[i].Path}: could not be resized");
            using var rgba = img.ColorType == SKColorType.Rgba8888 ? img.Copy() : img.Copy(SKColorType.Rgba8888);
            var px = rgba.GetPixelSpan();
            long baseOff = (long)i * 3 * plane;
            for (int p = 0; p < plane; p++)
            {
                byte r = px[4 * p], g = px[4 * p + 1], b = px[4 * p + 2];
                rgb[baseOff + p] = r;
                rgb[baseOff + plane + p] = g;
                rgb[baseOff + 2 * plane + p] = b;
                if (r != g || g != b) allGrey = false;
            }
        }
        return (rgb, allGrey);
    }

    static ImageDataset ToDataset(string name, List<(string Path, int Label)> items, byte[] rgb, int side, bool grey, string[] classes)
    {
        var x = torch.tensor(rgb, torch.ScalarType.Byte).reshape(items.Count, 3, side, side);
        if (grey) x = x[.., ..1].contiguous();
        var y = torch.tensor(items.Select(i => (long)i.Label).ToArray());
        return new ImageDataset(name, x, y, classes, flipSafe: true);
    }
}
