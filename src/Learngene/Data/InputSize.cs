namespace Learngene.Data;

/// <summary>The input size a model takes for data of another size: the multiple of every patch size nearest
/// the data's own (at least one multiple), so that a 20×20 data set feeds a patch-7 ViT at 21×21 and a
/// patch-4 DiT judged by a patch-7 ViT at 28×28. Training resizes the images to it (bilinear).</summary>
public static class InputSize
{
    public static int Fit(int dataSize, params int[] patches)
    {
        if (dataSize < 1) throw new ArgumentOutOfRangeException(nameof(dataSize), dataSize, "an image size is at least 1");
        long step = patches.Where(p => p > 1).Aggregate(1L, (a, p) => a / Gcd(a, p) * p);
        if (step > 4096) throw new LearngeneException($"patch sizes {string.Join(", ", patches)} have no common multiple an image could take (the least is {step})", setting: "patch-size");
        long below = dataSize / step * step, above = below + (below == dataSize ? 0 : step);
        return (int)(below >= step && dataSize - below < above - dataSize ? below : above);
    }

    static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);
}
