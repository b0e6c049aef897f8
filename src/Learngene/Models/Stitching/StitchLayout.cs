namespace Learngene.Models.Stitching;

/// <summary>One member of a stitched family: an instance alone (<see cref="Front"/> = <see cref="End"/>, no
/// stitch), or the front instance's blocks 0..<see cref="FrontLast"/>, the stitch layer
/// <see cref="StitchLayer"/>, then the end instance's blocks <see cref="EndFirst"/>..d−1.</summary>
public sealed record StitchConfig(string Id, int Front, int End, int FrontLast, int EndFirst, int StitchLayer, int Depth)
{
    public bool IsInstance => Front == End;
}

/// <summary>The sliding-window rule of SN-Net and Learngene Pool (docs/methods/pool.md): between a front and an end
/// model of the same depth d, windows of size 2 and stride 1 over block indices, i = 0..d−2; window i holds
/// the stitch points (front ends after block j, end starts at block k) with j, k ∈ {i, i+1}, and the points
/// it adds that no earlier window holds share one stitch layer. That gives every |j − k| ≤ 1: 3d − 2 points
/// (16 at d = 6), depths d, d+1 and d+2, sharing d − 1 stitch layers per model pair.</summary>
public static class StitchLayout
{
    /// <summary>(front last block, end first block, window) of every stitch point between two depth-d models.</summary>
    public static IReadOnlyList<(int FrontLast, int EndFirst, int Window)> Points(int depth)
    {
        if (depth < 2) throw new LearngeneException($"stitching needs models of at least 2 blocks (got {depth})");
        var seen = new HashSet<(int, int)>();
        var points = new List<(int, int, int)>();
        for (int window = 0; window < depth - 1; window++)
            foreach (int j in new[] { window, window + 1 })
                foreach (int k in new[] { window, window + 1 })
                    if (seen.Add((j, k))) points.Add((j, k, window));
        return points;
    }

    /// <summary>Every configuration of a family: each model alone, then for each (front, end) pair its
    /// stitch points; stitch layers are numbered across pairs (pair p's window w is layer p·(d−1) + w).</summary>
    public static IReadOnlyList<StitchConfig> Enumerate(int models, int depth, IReadOnlyList<(int Front, int End)> pairs)
    {
        var configs = Enumerable.Range(0, models).Select(m => new StitchConfig($"m{m}", m, m, depth - 1, depth, -1, depth)).ToList();
        for (int p = 0; p < pairs.Count; p++)
        {
            var (front, end) = pairs[p];
            foreach (var (j, k, w) in Points(depth))
                configs.Add(new StitchConfig($"m{front}-b{j}-m{end}-b{k}", front, end, j, k, p * (depth - 1) + w, (j + 1) + (depth - k)));
        }
        return configs;
    }
}
