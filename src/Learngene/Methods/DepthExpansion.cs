using Learngene.Experiments;
using Learngene.Runs;

namespace Learngene.Methods;

/// <summary>How TLEG's and SWS's learngenes expand and describe themselves: one descendant per asked depth
/// (or one for SWS's explicit layer mapping), the learngene's width, its head on the same label space.</summary>
public static class DepthExpansion
{
    public static readonly Setting[] Settings =
    [
        new("depths", "Depths: a range 1..12, a list 2,4,6, or both (1..4,8,12); default 1..12"),
        new("classes", "Classes of the descendants (default: the learngene's); another count gets a fresh head"),
        new("width", "Width of the descendants: must be the learngene's (TLEG and SWS expand depth only)"),
        new("fresh-head", "A fresh head even when the class count matches (another label space, e.g. a transfer task)", Flag: true),
    ];

    public static Expansion Expand(string genePath, ExpandRequest request, int[]? layerSources = null)
    {
        var depths = DepthList.Parse(request.Text("depths") ?? "1..12");
        var outcome = ExpandRun.FromGene(genePath, depths, layerSources, request.Int("classes"), request.Int("width"), request.Flag("fresh-head"), request.Seed, request.OutDir);
        return Summarized(outcome, $" (learngene: {outcome.StoredParameters:N0} stored parameters)");
    }

    /// <summary>An expansion's files and closing line (<see cref="ExpandRun"/>'s outcome, for learngenes and initializers alike).</summary>
    public static Expansion Summarized(ExpandRun.Outcome outcome, string stored = "") =>
        new(outcome.Files.Select(f => new Descendant(f.Path, f.Parameters, f.MacsPerImage, $"depth {f.Depth,2}")).ToList(),
            $"{outcome.Files.Count} descendants expanded in {outcome.ExpandSeconds:F3} s and written in {outcome.WriteSeconds:F2} s{stored}");

    public static IReadOnlyList<string> Describe(IAuxiliaryMethod method, string genePath)
    {
        using var gene = LearngeneFile.Load(genePath);
        var a = gene.Info.Architecture;
        var lines = new List<string>
        {
            $"learngene ({method.Name}): {method.StoredParameters(gene):N0} stored parameters, {method.Stores}",
            $"learned from a depth-{a.Depth} auxiliary model (width {a.Width}, {a.Heads} heads, patch {a.PatchSize}) on {gene.Info.SourceData}, {gene.Info.ImagesSeen:N0} images seen",
            $"expands to any depth ('expand --depths'); the figures below are for a descendant of the auxiliary model's depth",
        };
        if (gene.Info.MethodSettings is not ("" or "{}")) lines.Add($"settings: {gene.Info.MethodSettings}");
        return lines;
    }
}
