using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.IO;

/// <summary>Images in [0, 1] ([C, H, W] with 1 or 3 channels) as PNG files, a grid of many, and an
/// ImageFolder tree (<c>DIR/CLASS/N.png</c>) that <see cref="Data.ImageFolderDataset"/> and any other
/// tool read back.</summary>
public static class ImageFiles
{
    /// <summary>Images [N, C, H, W] tiled <paramref name="columns"/> to a row with a gap of
    /// <paramref name="gap"/> pixels (white), as one [C, H', W'] image.</summary>
    public static Tensor Grid(Tensor images, int columns, int gap = 2)
    {
        long n = images.shape[0], ch = images.shape[1], h = images.shape[2], w = images.shape[3];
        long rows = (n + columns - 1) / columns;
        var grid = torch.ones(ch, rows * (h + gap) + gap, columns * (w + gap) + gap);
        for (long i = 0; i < n; i++)
        {
            long r = i / columns, c = i % columns;
            grid[.., TensorIndex.Slice(gap + r * (h + gap), gap + r * (h + gap) + h), TensorIndex.Slice(gap + c * (w + gap), gap + c * (w + gap) + w)] = images[i].cpu().to(float32);
        }
        return grid;
    }

    public static void SavePng(Tensor image, string path)
    {
        if (image.dim() != 3 || image.shape[0] is not (1 or 3)) throw new ArgumentException("a PNG is written from [C, H, W] with 1 or 3 channels");
        int ch = (int)image.shape[0], h = (int)image.shape[1], w = (int)image.shape[2];
        // Pixels as bytes, row-major with channels last (what Skia lays out).
        byte[] pixels;
        using (var scope = torch.NewDisposeScope())
            pixels = (image.detach().cpu().clamp(0, 1) * 255).round().to(ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
        var info = new SKImageInfo(w, h, ch == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var row = new byte[bitmap.RowBytes];
        for (int y = 0; y < h; y++)
        {
            if (ch == 1) Array.Copy(pixels, y * w, row, 0, w);
            else
                for (int x = 0; x < w; x++)
                {
                    for (int k = 0; k < 3; k++) row[4 * x + k] = pixels[(y * w + x) * 3 + k];
                    row[4 * x + 3] = 255;
                }
            Marshal.Copy(row, 0, bitmap.GetPixels() + y * bitmap.RowBytes, row.Length);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, s => data.SaveTo(s));
    }

    /// <summary>Class-major samples as <c>dir/grid.png</c> (<paramref name="perRow"/> to a row: one row per
    /// class) and every sample as <c>dir/CLASS/INDEX.png</c>.</summary>
    public static void SaveSamples(Tensor images, Tensor labels, IReadOnlyList<string> classNames, int perRow, string dir)
    {
        using (var grid = Grid(images, perRow)) SavePng(grid, Path.Combine(dir, "grid.png"));
        SaveFolder(images, labels, classNames, dir);
    }

    /// <summary>Every image as <c>dir/CLASS/INDEX.png</c>, INDEX counting within each class from 0.</summary>
    public static void SaveFolder(Tensor images, Tensor labels, IReadOnlyList<string> classNames, string dir)
    {
        var label = labels.cpu().data<long>().ToArray();
        var counts = new Dictionary<long, int>();
        for (int i = 0; i < label.Length; i++)
        {
            int index = counts.GetValueOrDefault(label[i]);
            counts[label[i]] = index + 1;
            using var image = images[i];
            SavePng(image, Path.Combine(dir, SafeName(classNames[(int)label[i]]), $"{index}.png"));
        }
    }

    /// <summary>A class name usable as a folder name everywhere (path separators and the like replaced).</summary>
    public static string SafeName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars().Concat(['\\', ':']).ToHashSet();
        var s = new string(name.Select(c => invalid.Contains(c) ? '_' : c).ToArray()).Trim();
        return s is "" or "." or ".." ? "_" : s;
    }
}
