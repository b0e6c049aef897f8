using TorchSharp;

namespace Learngene.Data;

/// <summary>A folder in the MNIST layout: train-images-idx3-ubyte, train-labels-idx1-ubyte,
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or with a .gz suffix.</summary>
public static class IdxDataset
{
    public static DataSplits Load(string folder, string name, IReadOnlyList<string>? classNames = null, bool flipSafe = false)
    {
        if (!Directory.Exists(folder)) throw new LearngeneException($"data folder not found: {folder}");
        var train = LoadSplit(folder, "train", name, classNames, flipSafe);
        var test = LoadSplit(folder, "t10k", name, classNames ?? train.ClassNames, flipSafe);
        return new DataSplits(train, test);
    }

    static ImageDataset LoadSplit(string folder, string prefix, string name, IReadOnlyList<string>? classNames, bool flipSafe)
    {
        var (imgShape, imgs) = IdxReader.Read(Find(folder, $"{prefix}-images-idx3-ubyte"));
        var (lblShape, lbls) = IdxReader.Read(Find(folder, $"{prefix}-labels-idx1-ubyte"));
        if (imgShape.Length != 3 || lblShape.Length != 1 || imgShape[0] != lblShape[0])
            throw new LearngeneException($"{folder}: {prefix} images [{string.Join(",", imgShape)}] and labels [{string.Join(",", lblShape)}] do not match");
        if (imgShape[1] != imgShape[2]) throw new LearngeneException($"{folder}: images are {imgShape[1]}x{imgShape[2]}; only square images are supported");
        int classes = classNames?.Count ?? (lbls.Length == 0 ? 0 : lbls.Max() + 1);
        if (lbls.Any(l => l >= classes)) throw new LearngeneException($"{folder}: a label is outside the {classes} classes");
        var images = torch.tensor(imgs, torch.ScalarType.Byte).reshape(imgShape[0], 1, imgShape[1], imgShape[2]);
        var labels = torch.tensor(lbls, torch.ScalarType.Byte).to_type(torch.ScalarType.Int64);
        classNames ??= Enumerable.Range(0, classes).Select(i => i.ToString()).ToArray();
        return new ImageDataset(name, images, labels, classNames, flipSafe);
    }

    static string Find(string folder, string stem)
    {
        foreach (var candidate in new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx"), stem.Replace("-idx", ".idx") + ".gz" })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new LearngeneException($"{folder}: missing {stem} (or {stem}.gz)");
    }
}
