using Learngene.Methods;

namespace Learngene.Methods.Sws;

/// <summary>How SWS maps layers to stages. The auxiliary model has stages of given sizes (the paper's
/// [3, 3, 4, 3, 3] for depth 16); a descendant of depth L' takes, for each of its layers, the block of
/// one stage, stages in order. The default rule (docs/methods/sws.md):
/// <list type="bullet">
/// <item>L' ≥ number of stages: every stage gets one layer, and the remaining layers are shared out in
/// proportion to the auxiliary stage sizes by largest remainder (ties go to the earlier stage).
/// Depth 16 gives back [3, 3, 4, 3, 3]; depth 12 gives [3, 2, 3, 2, 2] (the authors' own 12-layer example
/// is [3, 3, 2, 2, 2]: pass it with --layers-source 0,0,0,1,1,1,2,2,3,3,4,4).</item>
/// <item>L' below the number of stages: L' stages evenly spaced from the first to the last (one layer
/// each; depth 1 takes the last stage, which feeds the learngene's final norm and head).
/// With 5 stages: depth 1 → [4], 2 → [0, 4], 3 → [0, 2, 4], 4 → [0, 1, 3, 4].</item>
/// </list></summary>
public static class SwsLayout
{
    public static readonly int[] PaperStages = [3, 3, 4, 3, 3];

    /// <summary>Layers per stage for a descendant of the given depth (may contain zeros below S stages).</summary>
    public static int[] LayersPerStage(int depth, IReadOnlyList<int> stageSizes)
    {
        if (depth < 1) throw new LearngeneException($"depth must be at least 1 (got {depth})");
        int s = stageSizes.Count;
        var counts = new int[s];
        if (depth < s)
        {
            foreach (int stage in EvenlySpacedStages(depth, s)) counts[stage] = 1;
            return counts;
        }
        int extra = depth - s, total = stageSizes.Sum();
        var quotas = stageSizes.Select(size => (double)extra * size / total).ToArray();
        for (int i = 0; i < s; i++) counts[i] = 1 + (int)Math.Floor(quotas[i]);
        int left = depth - counts.Sum();
        foreach (int i in Enumerable.Range(0, s).OrderByDescending(i => quotas[i] - Math.Floor(quotas[i])).ThenBy(i => i).Take(left))
            counts[i]++;
        return counts;
    }

    /// <summary>The stage each descendant layer copies, in layer order.</summary>
    public static int[] DefaultSources(int depth, IReadOnlyList<int> stageSizes) =>
        LayersPerStage(depth, stageSizes).SelectMany((count, stage) => Enumerable.Repeat(stage, count)).ToArray();

    /// <summary>The auxiliary model's own mapping: stage s repeated stageSizes[s] times.</summary>
    public static int[] AuxiliarySources(IReadOnlyList<int> stageSizes) =>
        stageSizes.SelectMany((count, stage) => Enumerable.Repeat(stage, count)).ToArray();

    static IEnumerable<int> EvenlySpacedStages(int depth, int stages) =>
        depth == 1 ? [stages - 1] : Enumerable.Range(0, depth).Select(i => (int)Math.Round((double)i * (stages - 1) / (depth - 1), MidpointRounding.AwayFromZero));

    /// <summary>Checks an explicit mapping: stage indices in range and in non-decreasing order.</summary>
    public static int[] Validate(IReadOnlyList<int> sources, int stages)
    {
        if (sources.Count == 0) throw new LearngeneException("the layer-to-stage mapping is empty");
        for (int i = 0; i < sources.Count; i++)
        {
            if (sources[i] < 0 || sources[i] >= stages)
                throw new LearngeneException($"layer {i} maps to stage {sources[i]}, but the learngene has stages 0..{stages - 1}");
            if (i > 0 && sources[i] < sources[i - 1])
                throw new LearngeneException($"the layer-to-stage mapping must keep stages in order (layer {i} goes back from stage {sources[i - 1]} to {sources[i]})");
        }
        return sources.ToArray();
    }

    /// <summary>"0,0,0,1,1,1,2,2,3,3,4,4" → the mapping (clear error on anything else).</summary>
    public static int[] Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out result[i]))
                throw new LearngeneException($"'{text}' is not a list of stage indices like 0,0,0,1,1,1,2,2,3,3,4,4");
        return result;
    }

    /// <summary>The auxiliary stage sizes for an auxiliary model of the given depth: [3,3,4,3,3] at 16, else
    /// the same proportional rule applied to five stages (one layer per stage below 5 layers).</summary>
    public static int[] StagesForAuxiliaryDepth(int depth) =>
        depth == PaperStages.Sum() ? PaperStages.ToArray() : LayersPerStage(depth, PaperStages).Where(c => c > 0).ToArray();
}
