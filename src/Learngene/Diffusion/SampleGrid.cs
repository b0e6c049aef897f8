using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Diffusion;

/// <summary>Picks a grid's rows from class-major samples (every sample of class 0, then class 1…).</summary>
public static class SampleGrid
{
    /// <summary>The first <paramref name="columns"/> samples of each of the <paramref name="classes"/> classes,
    /// class after class, from samples drawn <paramref name="perClass"/> per class.</summary>
    public static Tensor Rows(Tensor samples, int classes, int perClass, int columns)
    {
        int take = Math.Min(columns, perClass);
        var index = Enumerable.Range(0, classes).SelectMany(k => Enumerable.Range(k * perClass, take)).Select(i => (long)i).ToArray();
        using var idx = torch.tensor(index);
        return samples.index_select(0, idx);
    }
}
