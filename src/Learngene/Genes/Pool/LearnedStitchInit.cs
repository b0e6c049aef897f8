using Learngene.IO;
using Learngene.Models.Stitching;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Genes.Pool;

/// <summary>Learngene Pool's learned stitch initialization (SPEC.md §3 (b)): a stitch layer starts from the
/// transposed mean of the front instance's distillation maps M_p (teacher width → instance width), which
/// sends the front's tokens back into the teacher's space, with a zero bias. The authors stitch only into
/// the instance of the teacher's width (DeiT-B), where that is the whole rule (<c>pool/</c> in
/// superselll/learngenepool). For an end narrower than the teacher we follow it with the end's own mean map
/// (teacher → end), our extension: W = mean(M_end) · mean(M_front)ᵀ.</summary>
public static class LearnedStitchInit
{
    /// <summary>Sets every stitch layer of the pool. <paramref name="maps"/>[i] holds model i's M_p
    /// weights ([instance width, teacher width] each).</summary>
    public static void Apply(StitchPool pool, IReadOnlyList<IReadOnlyList<Tensor>> maps, int teacherWidth)
    {
        if (maps.Count != pool.Models.Count) throw new LearngeneException($"learned stitch initialization needs the maps of all {pool.Models.Count} models (got {maps.Count})");
        for (int i = 0; i < maps.Count; i++)
            if (maps[i].Any(m => m.dim() != 2 || m.shape[0] != pool.Pool.Models[i].Width || m.shape[1] != teacherWidth))
                throw new LearngeneException($"model {i}'s distillation maps are not teacher width {teacherWidth} → width {pool.Pool.Models[i].Width}: distilled from another teacher?", setting: "teacher");
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var config = pool.Pool;
        for (int p = 0; p < config.Pairs.Length; p++)
        {
            var (front, end) = (config.Pairs[p][0], config.Pairs[p][1]);
            var back = Mean(maps[front]).t(); // [teacher, front]
            var weight = config.Models[end].Width == teacherWidth ? back : Mean(maps[end]).matmul(back);
            for (int w = 0; w < config.Depth - 1; w++)
            {
                var layer = pool.Stitches[p * (config.Depth - 1) + w];
                layer.weight!.copy_(weight);
                layer.bias!.zero_();
            }
        }
    }

    static Tensor Mean(IReadOnlyList<Tensor> maps) =>
        maps.Count == 0 ? throw new LearngeneException("an instance has no distillation maps") : torch.stack(maps).mean([0]);

    /// <summary>The M_p weights a feature-distillation run kept in its checkpoint (<c>objective/blocks.p.weight</c>).</summary>
    public static List<Tensor> ReadMaps(string checkpointPath)
    {
        var (tensors, _) = SafeTensors.Load(checkpointPath);
        var names = Enumerable.Range(0, tensors.Count).Select(p => $"{Checkpoint.ObjectivePrefix}blocks.{p}.weight").TakeWhile(tensors.ContainsKey).ToList();
        var maps = names.Select(n => tensors[n]).ToList();
        foreach (var (name, t) in tensors) if (!names.Contains(name)) t.Dispose();
        if (maps.Count == 0) throw new LearngeneException($"{checkpointPath} holds no distillation maps: was this instance trained with feature distillation?");
        return maps;
    }
}
