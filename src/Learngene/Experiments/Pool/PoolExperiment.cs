using System.Text.Json;
using Learngene.Data;
using Learngene.Genes;
using Learngene.Genes.Pool;
using Learngene.IO;
using Learngene.Models;
using Learngene.Models.Stitching;
using Learngene.Runs;
using Learngene.Training;
using Learngene.Training.Objectives;
using TorchSharp;

namespace Learngene.Experiments.Pool;

/// <summary>A stitched family of the experiment: its name, "pool" or "sn-net", its stitch initialization and
/// which members it stitches ("neighbours": each to the next wider, SN-Net's rule; "ends": the narrowest into
/// the widest, as Learngene Pool's code does).</summary>
public sealed record StitchedFamily(string Name, string Family, string StitchInit, string Pairs = "neighbours");

/// <summary>Learngene Pool against SN-Net (SPEC.md §3): one ViT teacher; the pool's instances (half-depth ViTs
/// of several widths, feature-distilled from it) and SN-Net's anchors (full-depth ViTs of the same widths,
/// distilled with CE and soft KD), each pre-trained model on the same images, epochs and recipe; then the
/// stitched families — the pool with the learned and with the least-squares stitch initialization, the pool
/// as the authors' code stitches it, and SN-Net — each fine-tuned the same way (one sampled configuration
/// per step) and every configuration evaluated on the same test images. Every training is a cached cell.
/// <c>learn pool</c> runs it for one family alone (<paramref name="only"/>).</summary>
public sealed class PoolExperiment(PoolPreset preset, string runDir, DataCache data, Action<string> log, IReadOnlyList<StitchedFamily>? only = null)
{
    public static readonly StitchedFamily[] Families =
    [
        new("pool-learned", "pool", "learned"), new("pool-ls", "pool", "ls"),
        new("pool-learned-ends", "pool", "learned", Pairs: "ends"), new("sn-net", "sn-net", "ls"),
    ];

    /// <summary>The family names <c>bench pool --families</c> accepts.</summary>
    public static IEnumerable<string> FamilyNames => Families.Select(f => f.Name);

    /// <summary>The experiment's families by name, or a clear error naming the known ones.</summary>
    public static List<StitchedFamily> Find(IEnumerable<string> names) => names.Select(n => Families.FirstOrDefault(f => f.Name == n)
        ?? throw new LearngeneException($"unknown stitched family '{n}' (known: {string.Join(", ", FamilyNames)})", setting: "families")).ToList();

    /// <summary>A pool family of any stitch initialization and pairing (what <c>learn pool</c> trains).</summary>
    public static StitchedFamily PoolFamily(string stitchInit, string pairs)
    {
        if (stitchInit is not ("learned" or "ls")) throw new LearngeneException($"unknown stitch initialization '{stitchInit}' (expected learned or ls)", setting: "stitch-init");
        if (pairs is not ("neighbours" or "ends")) throw new LearngeneException($"unknown pairing '{pairs}' (expected neighbours or ends)", setting: "pairs");
        return new($"pool-{stitchInit}{(pairs == "ends" ? "-ends" : "")}", "pool", stitchInit, pairs);
    }

    readonly CellStore cells = new(runDir);

    public PoolResults Run()
    {
        var selected = only ?? Families;
        if (preset.TeacherFile is string given && !File.Exists(given)) throw new LearngeneException($"{given}: no such file", setting: "teacher");
        var p = preset with { TeacherFile = preset.TeacherFile is null ? null : Path.GetFullPath(preset.TeacherFile) };
        ExperimentFolder.GuardPreset(runDir, p, q => q with { Description = "" });

        var teacherCell = p.TeacherFile is string file
            ? cells.Given("teacher", file)
            : cells.GetOrCompute("teacher", dir => cells.Train(dir, new RunSpec
            {
                Data = p.Data, Model = p.Teacher, Options = p.Recipe with { Epochs = p.TeacherEpochs, Seed = p.Seed },
                TrainLimit = p.TeacherTrainLimit, TestLimit = p.TestLimit, TestSeed = p.Seed,
            }, data, "source", "teacher", p.Teacher.Depth), log);
        teacherCell = cells.Need(teacherCell); // every member distils from it
        string teacherPath = cells.Resolve(teacherCell.ModelPath);
        var teacher = ModelFile.ReadConfig(teacherPath) as VitConfig
            ?? throw new LearngeneException($"{teacherPath}: the pool distils a ViT teacher's blocks, not a {ModelFile.ReadConfig(teacherPath).Family}", setting: "teacher");
        var context = new FamilyContext(teacherPath, teacher.Width, MacsOf(teacher));

        var instances = PoolInstances.Architectures(teacher, p.Widths.Length == 0 ? null : p.Widths, p.InstanceDepth);
        bool pool = selected.Any(f => f.Family == "pool"), snNet = selected.Any(f => f.Family == "sn-net");
        var instanceCells = !pool ? [] : instances.Select((arch, i) => PerModelCell($"instance-w{arch.Width}", arch, teacherPath, "pool-instance",
            FeatureDistillation.Kind.Name, JsonSerializer.Serialize(PoolInstances.Matching(i, arch.Depth, teacher.Depth), ModelConfig.Json))).ToList();
        var anchorCells = !snNet ? [] : instances.Select(arch => PerModelCell($"anchor-w{arch.Width}", arch with { Depth = teacher.Depth }, teacherPath, "sn-net-anchor", null, null)).ToList();

        var families = selected.Select(f => Family(f, f.Family == "pool" ? instanceCells : anchorCells, context)).ToList();
        cells.EndOfWorkerPass();
        var pretrained = instanceCells.Concat(anchorCells).ToDictionary(c => c.Name);
        var results = new PoolResults
        {
            Preset = p, Teacher = teacherCell, Pretrained = pretrained, Families = families,
            ComputeSeconds = teacherCell.Seconds + pretrained.Values.Sum(c => c.Seconds) + families.Sum(f => f.Finetune.Seconds),
            WallSeconds = cells.SaveWallSeconds(), Finished = DateTime.UtcNow,
        };
        ExperimentFolder.SaveResults(runDir, results);
        return results;
    }

    sealed record FamilyContext(string TeacherPath, int TeacherWidth, long TeacherMacs);

    /// <summary>An instance or an anchor: the same images, epochs and recipe for every one.</summary>
    CellResult PerModelCell(string name, VitConfig arch, string teacherPath, string role, string? objective, string? objectiveSettings) =>
        cells.GetOrCompute(name, dir => cells.Train(dir, new RunSpec
        {
            Data = preset.Data, Model = arch, Teacher = teacherPath, Objective = objective, ObjectiveSettings = objectiveSettings,
            // Anchors: the instances' CE weight (0.1) with soft KD for the rest, without the feature terms.
            Options = objective is null ? preset.PerModelRecipe with { Distill = "soft", DistillAlpha = 0.9, Temperature = 1.0 } : preset.PerModelRecipe,
            TrainLimit = preset.PerModelTrainLimit, TestLimit = preset.TestLimit, TestSeed = preset.Seed,
        }, data, "source", role, arch.Depth), log);

    string PoolsDir => Path.Combine(runDir, "pools");

    /// <summary>A stitched family from its members: pooled, stitches initialized, fine-tuned, every
    /// configuration measured, saved as one learngene file.</summary>
    FamilyResult Family(StitchedFamily f, IReadOnlyList<CellResult> members, FamilyContext context)
    {
        string initFile = Path.Combine(PoolsDir, $"{f.Name}-init.safetensors");
        var cell = cells.GetOrCompute($"finetune-{f.Name}", dir =>
        {
            Assemble(f, members.Select(cells.Need).ToList(), initFile, context.TeacherWidth); // members other workers trained
            return cells.Train(dir, new RunSpec
            {
                Data = preset.Data, Init = initFile, Teacher = context.TeacherPath, Objective = StitchFineTuning.Kind.Name, Options = preset.FinetuneRecipe,
                TrainLimit = preset.PerModelTrainLimit, TestLimit = preset.TestLimit, TestSeed = preset.Seed,
            }, data, "source", $"{f.Name}-finetune", 0);
        }, log);
        // Workers train; measuring every configuration and writing the pool file is rank 0's gathering.
        if (cells.IsWorker) return new FamilyResult { Name = f.Name };

        string file = Path.Combine(runDir, $"{f.Name}.safetensors");
        var loaded = ModelFile.Load(cells.Resolve(cell.ModelPath));
        using var pool = (StitchPool)loaded.Model;
        var splits = Splits(pool.Pool.ImageSize);
        var measured = PoolFile.Measure(pool, cell.History[^1].Test);
        PoolFile.Save(file, pool, new PoolRecord { Pool = pool.Pool, StitchInit = f.StitchInit, TestData = preset.Data, TestImages = splits.Test.Count, Configurations = measured },
            new LearngeneInfo
            {
                Method = f.Family, SourceData = preset.Data, ClassNames = loaded.ClassNames, Normalization = loaded.Normalization,
                Teacher = cells.Relative(context.TeacherPath), ImagesSeen = cell.TrainImages, Seed = preset.Seed,
            });
        var initial = InitialAccuracy(f.Name, initFile, splits);
        data.Release(splits);
        double meanMacs = measured.Average(c => (double)c.MacsPerImage);
        double Flops(long images, double macs) => 2.0 * images * (3.0 * macs + context.TeacherMacs); // forward + backward, teacher forward
        return new FamilyResult
        {
            Name = f.Name, Family = f.Family, StitchInit = f.StitchInit, Pairs = f.Pairs, File = cells.Relative(file), Members = members.Select(m => m.Name).ToArray(),
            StoredParameters = pool.ParameterCount(), PretrainImages = members.Sum(m => m.TrainImages) + cell.TrainImages,
            PretrainFlops = members.Sum(m => Flops(m.TrainImages, m.MacsPerImage)) + Flops(cell.TrainImages, meanMacs),
            Finetune = cell, Configurations = measured, InitialAccuracy = initial,
        };
    }

    /// <summary>The test and calibration images of every family (the per-model training images, the
    /// preset's test images), at the pool's input size.</summary>
    DataSplits Splits(int imageSize) => data.Splits(preset.Data, imageSize, preset.PerModelTrainLimit, preset.Seed, preset.TestLimit, preset.Seed);

    /// <summary>Every configuration's test accuracy right after the stitch initialization (kept beside the
    /// starting model file; measured again from it when missing).</summary>
    Dictionary<string, double> InitialAccuracy(string name, string initFile, DataSplits splits)
    {
        string path = Path.Combine(PoolsDir, $"{name}-init-accuracy.json");
        if (File.Exists(path))
            try { return JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(path), ModelConfig.Json) ?? []; }
            catch (JsonException) { } // damaged: measured again
        if (!File.Exists(initFile)) return [];
        var loaded = ModelFile.Load(initFile);
        using var pool = (StitchPool)loaded.Model;
        pool.eval();
        var initial = StitchFineTuning.EvaluateAll(pool, splits.Test, loaded.Normalization, preset.Recipe.EvalBatchSize, torch.CPU);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(initial, ModelConfig.Json));
        return initial;
    }

    /// <summary>The members' trained weights in one pool, stitch layers initialized, saved as the fine-tuning's
    /// starting model file.</summary>
    void Assemble(StitchedFamily f, IReadOnlyList<CellResult> members, string initFile, int teacherWidth)
    {
        var loaded = new List<ModelFile.Loaded>();
        var maps = new List<List<torch.Tensor>>();
        DataSplits? splits = null;
        try
        {
            foreach (var m in members) loaded.Add(ModelFile.Load(cells.Resolve(m.ModelPath)));
            var config = StitchPoolConfig.Paired(loaded.Select(l => (VitConfig)l.Model.Config).ToArray(), f.Pairs);
            // The pool orders its models by width; members[Source(i)] is its model i.
            int Source(int i) => loaded.FindIndex(l => l.Model.Config.SameArchitecture(config.Models[i]));
            torch.manual_seed(preset.Seed);
            using var pool = new StitchPool(config);
            using (torch.no_grad())
                for (int i = 0; i < config.Models.Length; i++)
                {
                    var source = loaded[Source(i)].Model.state_dict();
                    foreach (var (n, t) in pool.Models[i].state_dict()) t.copy_(source[n]);
                }
            var norm = loaded[0].Normalization;
            if (f.StitchInit == "ls")
            {
                splits = Splits(config.ImageSize);
                using var scope = torch.NewDisposeScope();
                var (images, _) = new BatchLoader(splits.Train, norm, preset.CalibrationImages, shuffle: true, augment: false, preset.Seed, epoch: 0).Batches().First();
                pool.FitStitches(images);
            }
            else if (f.StitchInit == "learned")
            {
                for (int i = 0; i < config.Models.Length; i++)
                    maps.Add(LearnedStitchInit.ReadMaps(Path.Combine(cells.FolderOf(members[Source(i)].Name), Trainer.CheckpointName)));
                LearnedStitchInit.Apply(pool, maps, teacherWidth);
            }
            else throw new LearngeneException($"unknown stitch initialization '{f.StitchInit}' (expected learned or ls)", setting: "stitch-init");
            Directory.CreateDirectory(PoolsDir);
            ModelFile.Save(initFile, pool, norm, loaded[0].ClassNames, new Dictionary<string, string> { ["stitch_init"] = f.StitchInit, ["pairs"] = f.Pairs });
        }
        finally
        {
            foreach (var l in loaded) l.Model.Dispose();
            foreach (var t in maps.SelectMany(m => m)) t.Dispose();
            if (splits is not null) data.Release(splits);
        }
    }

    static long MacsOf(VitConfig teacher)
    {
        using var m = new VisionTransformer(teacher);
        return m.MacsPerImage();
    }
}
