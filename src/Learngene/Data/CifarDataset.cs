using TorchSharp;

namespace Learngene.Data;

/// <summary>The CIFAR "binary version" layouts. CIFAR-10: data_batch_1..5.bin and test_batch.bin, records
/// of 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32); class names from batches.meta.txt.
/// CIFAR-100: train.bin and test.bin, records of coarse label, fine label, 3072 pixels; fine labels are
/// used, names from fine_label_names.txt.</summary>
public static class CifarDataset
{
    const int Pixels = 3 * 32 * 32;

    public static DataSplits Load(string folder, bool cifar100)
    {
        if (!Directory.Exists(folder)) throw new LearngeneException($"CIFAR folder not found: {folder}");
        string name = cifar100 ? "cifar100" : "cifar10";
        int classes = cifar100 ? 100 : 10;
        int labelBytes = cifar100 ? 2 : 1;
        string[] trainFiles = cifar100 ? ["train.bin"] : Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray();
        string[] testFiles = cifar100 ? ["test.bin"] : ["test_batch.bin"];
        string namesFile = Path.Combine(folder, cifar100 ? "fine_label_names.txt" : "batches.meta.txt");
        string[] classNames = File.Exists(namesFile)
            ? File.ReadAllLines(namesFile).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
            : Enumerable.Range(0, classes).Select(i => i.ToString()).ToArray();
        if (classNames.Length != classes) throw new LearngeneException($"{namesFile}: expected {classes} class names, found {classNames.Length}");
        return new DataSplits(
            Read(folder, trainFiles, name, labelBytes, classNames),
            Read(folder, testFiles, name, labelBytes, classNames));
    }

    static ImageDataset Read(string folder, string[] files, string name, int labelBytes, string[] classNames)
    {
        int record = labelBytes + Pixels;
        var images = new List<byte>();
        var labels = new List<byte>();
        foreach (var file in files)
        {
            string path = Path.Combine(folder, file);
            if (!File.Exists(path)) throw new LearngeneException($"{folder}: missing {file} (expected the CIFAR binary version)");
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % record != 0)
                throw new LearngeneException($"{path}: {bytes.Length} bytes is not a whole number of {record}-byte records (truncated or not CIFAR-{classNames.Length})");
            for (int off = 0; off < bytes.Length; off += record)
            {
                byte label = bytes[off + labelBytes - 1];
                if (label >= classNames.Length) throw new LearngeneException($"{path}: label {label} is outside the {classNames.Length} classes");
                labels.Add(label);
                images.AddRange(new ArraySegment<byte>(bytes, off + labelBytes, Pixels));
            }
        }
        var x = torch.tensor(images.ToArray(), torch.ScalarType.Byte).reshape(labels.Count, 3, 32, 32);
        var y = torch.tensor(labels.ToArray(), torch.ScalarType.Byte).to_type(torch.ScalarType.Int64);
        return new ImageDataset(name, x, y, classNames, flipSafe: true);
    }
}
