using System.Text.Json;
using Learngene.Experiments.Planning;
using Learngene.IO;
using Learngene.Models;
using Learngene.Models.Stitching;
using Learngene.Runs;

namespace Learngene.Methods.Pool;

/// <summary>The pool experiment's trainings: how each is specified (shared by the run and its plan) and the
/// plan of a preset — the teacher (unless given), the instances and anchors the chosen families need, and each
/// family's fine-tuning per seed from its stitched pool (built from its members' architectures).</summary>
public static class PoolPlan
{
    public static RunSpec TeacherSpec(PoolPreset p) => new()
    {
        Data = p.Data, Model = p.Teacher, Options = p.Recipe with { Epochs = p.TeacherEpochs, Seed = p.Seed },
        TrainLimit = p.TeacherTrainLimit, TestLimit = p.TestLimit, TestSeed = p.Seed,
    };

    /// <summary>An instance (feature distillation) or an anchor (<paramref name="objective"/> null): the same
    /// images, epochs and recipe for every one.</summary>
    public static RunSpec PerModelSpec(PoolPreset p, VitConfig arch, string teacherPath, string? objective, string? objectiveSettings) => new()
    {
        Data = p.Data, Model = arch, Teacher = teacherPath, Objective = objective, ObjectiveSettings = objectiveSettings,
        // Anchors: the instances' CE weight (0.1) with soft KD for the rest, without the feature terms.
        Options = objective is null ? p.PerModelRecipe with { Distill = "soft", DistillAlpha = 0.9, Temperature = 1.0 } : p.PerModelRecipe,
        TrainLimit = p.PerModelTrainLimit, TestLimit = p.TestLimit, TestSeed = p.Seed,
    };

    /// <summary>A stitched family's fine-tuning from its assembled pool (<paramref name="initFile"/>), one seed.</summary>
    public static RunSpec FinetuneSpec(PoolPreset p, StitchedFamily f, int seed, string? initFile, string teacherPath) => new()
    {
        Data = p.Data, Init = initFile, Teacher = teacherPath, Objective = StitchFineTuning.Factory.Name,
        ObjectiveSettings = JsonSerializer.Serialize(new StitchFineTuning.Settings(CrossEntropyWeight: f.Finetuning == "ce" ? 1.0 : 0.5, Seed: seed),
            ModelConfig.Json),
        Options = (f.Finetuning == "ce" ? p.ConstantFinetuneRecipe : p.FinetuneRecipe) with { Seed = seed },
        TrainLimit = p.PerModelTrainLimit, TrainSeed = p.Seed, TestLimit = p.TestLimit, TestSeed = p.Seed,
    };

    public static List<PlannedCell> Of(PoolPreset p, IReadOnlyList<StitchedFamily>? only = null)
    {
        var plan = new List<PlannedCell>();
        var selected = only ?? StitchedFamilies.All;
        if (p.TeacherFile is null) plan.Add(new PlannedCell("teacher", TeacherSpec(p)));
        var shape = DryRun.ShapeOf(TeacherSpec(p));
        var teacherConfig = p.TeacherFile is string file ? ModelFile.ReadConfig(file) : p.Teacher;
        if (teacherConfig is not VitConfig vit) throw new LearngeneException($"the pool distils a ViT teacher's blocks, not a " +
            $"{teacherConfig.Family}", setting: "teacher");
        var teacher = (VitConfig)vit.WithData(vit.ImageSize > 0 ? vit.ImageSize : shape.ImageSize, shape.Channels, shape.Classes);
        var instances = PoolInstances.Architectures(teacher, p.Widths.Length == 0 ? null : p.Widths, p.InstanceDepth);
        var members = new Dictionary<string, List<VitConfig>> { ["pool"] = [], ["sn-net"] = [] };
        if (selected.Any(f => f.Family == "pool"))
            foreach (var (arch, i) in instances.Select((a, i) => (a, i)))
            {
                plan.Add(new PlannedCell($"instance-w{arch.Width}", PerModelSpec(p, arch, "", FeatureDistillation.Factory.Name,
                    JsonSerializer.Serialize(PoolInstances.Matching(i, arch.Depth, teacher.Depth), ModelConfig.Json)))
                { Teacher = teacher });
                members["pool"].Add(arch);
            }
        if (selected.Any(f => f.Family == "sn-net"))
            foreach (var arch in instances.Select(a => a with { Depth = teacher.Depth }))
            {
                if (!(p.SnNetWidestAnchor == "teacher" && arch.SameArchitecture(teacher)))
                    plan.Add(new PlannedCell($"anchor-w{arch.Width}", PerModelSpec(p, arch, "", null, null)) { Teacher = teacher });
                members["sn-net"].Add(arch);
            }
        foreach (var f in selected)
        {
            var all = members[f.Family];
            var used = f.Pairs == "ends" && all.Count > 2 ? [all[0], all[^1]] : all;
            var pool = StitchPoolConfig.Paired(used.ToArray(), f.Pairs);
            for (int seed = p.Seed; seed < p.Seed + p.FinetuneSeeds; seed++)
                plan.Add(new PlannedCell($"finetune-{f.Name}-s{seed}", FinetuneSpec(p, f, seed, null, "") with { Model = pool }) { Teacher = teacher });
        }
        return plan;
    }
}
