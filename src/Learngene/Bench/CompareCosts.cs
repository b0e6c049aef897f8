using Learngene.Genes;
using Learngene.IO;
using Learngene.Models;

namespace Learngene.Bench;

/// <summary>The costs SPEC.md asks every report to state, for the family of depths 1..AuxiliaryDepth:
/// the parameters each method stores to initialize it, and the images and FLOPs its pre-training takes.
/// <paramref name="member"/> is the family's architecture on the source task (any depth).</summary>
public sealed class CompareCosts(ComparePreset preset, ModelConfig member, CellStore cells)
{
    IEnumerable<int> FamilyDepths => Enumerable.Range(1, preset.AuxiliaryDepth);
    long? teacherMacs;

    long Params(int depth) { using var m = new VisionTransformer(member with { Depth = depth }); return m.ParameterCount(); }

    long Macs(int depth) { using var m = new VisionTransformer(member with { Depth = depth }); return m.MacsPerImage(); }

    public long StoredParameters(string method, Dictionary<string, CellResult> learngenes)
    {
        if (Methods.Registry.TryFind(method) is { } m)
        {
            using var gene = LearngeneFile.Load(cells.Resolve(learngenes[method].ModelPath), method);
            return m.StoredParameters(gene);
        }
        switch (method)
        {
            case "pretrain-finetune": return FamilyDepths.Sum(Params);
            case "weight-selection": return Params(preset.AuxiliaryDepth);
            case "heur-lg" or "auto-lg":
                using (var one = new VisionTransformer(member with { Depth = 1 })) // k blocks plus the final norm and head they sit under
                    return preset.InheritLayers * one.Blocks[0].parameters().Sum(p => p.numel())
                         + one.named_parameters().Where(p => p.name.StartsWith("norm.") || p.name.StartsWith("head.")).Sum(p => p.parameter.numel());
            default: return 0;
        }
    }

    /// <summary>Images one pre-trained model of pretrain-finetune processes (all depths get the same).</summary>
    static long PerModelImages(Dictionary<int, CellResult> pretrained) => pretrained.Values.Select(c => c.TrainImages).DefaultIfEmpty(0).Max();

    public long PretrainImages(string method, Dictionary<string, CellResult> learngenes, CellResult? ancestry, Dictionary<int, CellResult> pretrained) => method switch
    {
        _ when learngenes.TryGetValue(method, out var gene) => gene.TrainImages,
        "weight-selection" or "heur-lg" or "auto-lg" => ancestry?.TrainImages ?? 0,
        "pretrain-finetune" => PerModelImages(pretrained) * preset.AuxiliaryDepth,
        _ => 0,
    };

    public double PretrainFlops(string method, Dictionary<string, CellResult> learngenes, CellResult? ancestry, Dictionary<int, CellResult> pretrained, CellResult teacher)
    {
        teacherMacs ??= TeacherMacs(teacher); // a given teacher's file is read once, not once per method
        double Flops(long images, long macs) => 2.0 * images * (3.0 * macs + teacherMacs.Value);
        return method switch
        {
            _ when learngenes.TryGetValue(method, out var gene) => Flops(gene.TrainImages, gene.MacsPerImage),
            "weight-selection" or "heur-lg" or "auto-lg" when ancestry is not null => Flops(ancestry.TrainImages, ancestry.MacsPerImage),
            "pretrain-finetune" => FamilyDepths.Sum(d => Flops(PerModelImages(pretrained), Macs(d))),
            _ => 0,
        };
    }

    /// <summary>The teacher's forward MACs per image (read from its file when it was given, not trained here).</summary>
    long TeacherMacs(CellResult teacher)
    {
        if (teacher.MacsPerImage > 0) return teacher.MacsPerImage;
        var loaded = ModelFile.Load(cells.Resolve(teacher.ModelPath));
        try { return loaded.Model.MacsPerImage(); }
        finally { loaded.Model.Dispose(); }
    }
}
