using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Data;

/// <summary>One split of an image classification data set, held in memory as uint8 [N, C, H, W] with
/// int64 labels. Small enough for the data sets this tool targets on a CPU (MNIST: 47 MB; CIFAR: 150 MB).</summary>
public sealed class ImageDataset : IDisposable
{
    public string Name { get; }
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Digits and similar data where a mirror image is another symbol: no horizontal flips.</summary>
    public bool FlipSafe { get; }

    public ImageDataset(string name, Tensor images, Tensor labels, IReadOnlyList<string> classNames, bool flipSafe)
    {
        if (images.dim() != 4 || images.dtype != ScalarType.Byte) throw new ArgumentException("images must be uint8 [N, C, H, W]");
        if (labels.shape[0] != images.shape[0]) throw new ArgumentException("one label per image");
        Name = name;
        Images = images;
        Labels = labels.to_type(ScalarType.Int64);
        ClassNames = classNames;
        FlipSafe = flipSafe;
    }

    public int Count => (int)Images.shape[0];
    public int Channels => (int)Images.shape[1];
    public int ImageSize => (int)Images.shape[2];
    public int Classes => ClassNames.Count;

    /// <summary>Images per class, in class order.</summary>
    public long[] ClassCounts() => torch.bincount(Labels, minlength: Classes).data<long>().ToArray();

    /// <summary>The first <paramref name="count"/> images of a seeded random permutation (all when count ≥ N).</summary>
    public ImageDataset Subset(int count, int seed)
    {
        if (count >= Count) return this;
        using var gen = new Generator((ulong)seed);
        using var perm = torch.randperm(Count, generator: gen);
        using var idx = perm[..count];
        return new ImageDataset(Name, Images.index_select(0, idx), Labels.index_select(0, idx), ClassNames, FlipSafe);
    }

    /// <summary>Images [skip, skip + count) of the permutation <see cref="Subset"/> draws with the same seed: a
    /// validation split held out from the training subset <c>Subset(skip, seed)</c>.</summary>
    public ImageDataset Holdout(int skip, int count, int seed)
    {
        if (skip < 0 || count < 1 || skip + count > Count)
            throw new LearngeneException($"{Name} has {Count} training images: {skip} for training and {count} held out for validation do not fit", setting: "validation-images");
        using var gen = new Generator((ulong)seed);
        using var perm = torch.randperm(Count, generator: gen);
        using var idx = perm[skip..(skip + count)];
        return new ImageDataset(Name, Images.index_select(0, idx), Labels.index_select(0, idx), ClassNames, FlipSafe);
    }

    /// <summary>Resizes (bilinear) to a square <paramref name="size"/> and converts the channel count:
    /// grey→RGB replicates, RGB→grey averages. Returns this when nothing changes.</summary>
    public ImageDataset Adapt(int size, int channels)
    {
        if (size == ImageSize && channels == Channels) return this;
        if (channels != Channels && channels != 1 && Channels != 1)
            throw new LearngeneException($"cannot convert {Channels}-channel images of {Name} to {channels} channels");
        var chunks = new List<Tensor>();
        for (long start = 0; start < Count; start += 4096)
        {
            using var scope = torch.NewDisposeScope();
            var x = Images.narrow(0, start, Math.Min(Count - start, 4096)).to_type(ScalarType.Float32);
            if (size != ImageSize) x = nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false, antialias: size < ImageSize);
            if (channels != Channels) x = channels == 1 ? x.mean([1], keepdim: true) : x.expand(-1, channels, -1, -1);
            chunks.Add(x.round().clamp(0, 255).to_type(ScalarType.Byte).MoveToOuterDisposeScope());
        }
        // Its own copy of the labels: disposing the adapted set must not free the source's labels (a shared
        // tensor freed there turned later test losses into NaN, the flake seen in the suite).
        return new ImageDataset(Name, torch.cat(chunks, 0), Labels.clone(), ClassNames, FlipSafe);
    }

    /// <summary>Per-channel mean and standard deviation of the pixels scaled to [0, 1].</summary>
    public (float[] Mean, float[] Std) Statistics()
    {
        using var scope = torch.NewDisposeScope();
        var sample = Images[..Math.Min(Count, 10000)].to_type(ScalarType.Float32) / 255f;
        var mean = sample.mean([0, 2, 3]).data<float>().ToArray();
        var std = sample.std([0, 2, 3]).data<float>().ToArray();
        return (mean, std.Select(s => Math.Max(s, 1e-3f)).ToArray());
    }

    /// <summary>Only the images of the given classes, relabelled 0..k−1 in the order given and named after
    /// them (a model of digits 5–9 has classes "5".."9" at labels 0..4).</summary>
    public ImageDataset WithClasses(IReadOnlyList<int> classes)
    {
        if (classes.Count == 0) throw new LearngeneException("the class list is empty", setting: "classes");
        if (classes.Distinct().Count() != classes.Count) throw new LearngeneException($"the class list [{string.Join(",", classes)}] names a class twice", setting: "classes");
        foreach (var k in classes)
            if (k < 0 || k >= Classes) throw new LearngeneException($"class {k} is not one of {Name}'s {Classes} classes (0..{Classes - 1})", setting: "classes");
        using var scope = torch.NewDisposeScope();
        var table = Enumerable.Repeat(-1L, Classes).ToArray();
        for (int i = 0; i < classes.Count; i++) table[classes[i]] = i;
        var map = torch.tensor(table);
        var relabelled = map.index_select(0, Labels);
        var keep = (relabelled >= 0).nonzero().squeeze(1);
        // Made inside the scope and taken out of every scope: the caller disposes the new set.
        return new ImageDataset(Name, Images.index_select(0, keep), relabelled.index_select(0, keep), classes.Select(k => ClassNames[k]).ToArray(), FlipSafe).Kept();
    }

    /// <summary>Data sets one after the other, labels offset so that each keeps its own classes (a class name
    /// two sets share is prefixed with its set's name). Image sizes and channels must agree.</summary>
    public static ImageDataset Concat(string name, IReadOnlyList<ImageDataset> sets)
    {
        var first = sets[0];
        if (sets.FirstOrDefault(d => d.ImageSize != first.ImageSize || d.Channels != first.Channels) is { } other)
            throw new LearngeneException($"cannot combine {first.Name} ({first.Channels}×{first.ImageSize}×{first.ImageSize}) with {other.Name} ({other.Channels}×{other.ImageSize}×{other.ImageSize})", setting: "data");
        var all = sets.SelectMany(d => d.ClassNames).ToList();
        var names = sets.SelectMany(d => d.ClassNames.Select(c => all.Count(n => n == c) > 1 ? $"{d.Name}:{c}" : c)).ToArray();
        using var scope = torch.NewDisposeScope();
        long offset = 0;
        var labels = new List<Tensor>();
        foreach (var d in sets) { labels.Add(d.Labels + offset); offset += d.Classes; }
        return new ImageDataset(name, torch.cat(sets.Select(d => d.Images).ToList(), 0), torch.cat(labels, 0), names, sets.All(d => d.FlipSafe)).Kept();
    }

    /// <summary>Takes the tensors out of any dispose scope active where they were made: a data set kept
    /// beyond that scope (a cache's) must not be freed when it ends.</summary>
    public ImageDataset Kept()
    {
        Images.DetachFromDisposeScope();
        Labels.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A data set's train and test splits.</summary>
public sealed record DataSplits(ImageDataset Train, ImageDataset Test)
{
    public string Name => Train.Name;

    /// <summary>Both splits cut to these classes (<see cref="ImageDataset.WithClasses"/>).</summary>
    public DataSplits WithClasses(IReadOnlyList<int> classes) => new(Train.WithClasses(classes), Test.WithClasses(classes));
}
