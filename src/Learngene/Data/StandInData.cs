using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Data;

/// <summary>The shape of a data set's images and labels, known without reading it.</summary>
public sealed record DataShape(int ImageSize, int Channels, IReadOnlyList<string> ClassNames)
{
    public int Classes => ClassNames.Count;
}

/// <summary>Random images in a data set's shape, for a dry run: a plan's cells are built and stepped at full
/// size without downloading or reading the data (a paper preset's ImageNet-scale data is not on a laptop).</summary>
public static class StandInData
{
    /// <summary>What a data name gives: the built-in sets and CIFAR by their known shapes; a folder or IDX
    /// file (whose shape only reading tells) as ImageNet-like 224×224 RGB in 1000 classes. "a+b" joins the
    /// classes of both, as <see cref="DataCache"/> does.</summary>
    public static DataShape ShapeOf(string data)
    {
        if (data.Contains('+') && !data.Contains(':'))
        {
            var parts = data.Split('+', StringSplitOptions.TrimEntries).Select(ShapeOf).ToArray();
            return parts[0] with { ClassNames = parts.SelectMany(p => p.ClassNames).ToArray() };
        }
        if (DataCatalog.Registry.TryFind(data) is { } entry) return new DataShape(28, 1, entry.ClassNames);
        string kind = data.Split(':')[0].ToLowerInvariant();
        return kind switch
        {
            "cifar10" => new DataShape(32, 3, Numbered(10)),
            "cifar100" => new DataShape(32, 3, Numbered(100)),
            _ => new DataShape(224, 3, Numbered(1000)),
        };
    }

    static string[] Numbered(int classes) => Enumerable.Range(0, classes).Select(k => k.ToString()).ToArray();

    /// <summary><paramref name="train"/> and <paramref name="test"/> random images of the shape (every
    /// class in turn), drawn from <paramref name="seed"/>.</summary>
    public static DataSplits Splits(DataShape shape, int train, int test, int seed = 0)
    {
        using var generator = new Generator((ulong)seed);
        ImageDataset Draw(string split, int count) => new($"stand-in-{split}",
            torch.randint(0, 256, [count, shape.Channels, shape.ImageSize, shape.ImageSize], generator: generator).to_type(ScalarType.Byte),
            torch.arange(count) % shape.Classes, shape.ClassNames, flipSafe: true);
        return new DataSplits(Draw("train", train), Draw("test", test));
    }
}
