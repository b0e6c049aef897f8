using System.Text.Json;
using Learngene.Data;
using Learngene.Experiments;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Stitching;
using Learngene.Runs;
using Learngene.Training;
using Learngene.Training.Objectives;
using TorchSharp;

namespace Learngene.Methods.Pool;

/// <summary>Learngene Pool against SN-Net (docs/methods/pool.md): one ViT teacher; the pool's instances (half-depth ViTs
/// of several widths, feature-distilled from it) and SN-Net's anchors (full-depth ViTs of the same widths,
/// distilled with CE and soft KD; the widest is the teacher itself unless the preset asks for a trained one),
/// each pre-trained model on the same images, epochs and recipe; then the stitched families — the pool with
/// each stitch initialization, the pool as the authors' code builds it, and SN-Net — each fine-tuned the same
/// way with several seeds, and every configuration measured on the same test images and on training images
/// held out from every training (where choices are made). Every training is a cached cell. <c>learn pool</c>
/// runs it for one family alone (<paramref name="only"/>).</summary>
public sealed class PoolExperiment(PoolPreset preset, string runDir, DataCache data, Action<string> log, IReadOnlyList<StitchedFamily>? only = null)
{
    readonly CellStore cells = new(runDir);

    public PoolResults Run()
    {
        var selected = only ?? StitchedFamilies.All;
        if (preset.TeacherFile is string given && !File.Exists(given)) throw new LearngeneException($"{given}: no such file", setting: "teacher");
        if (preset.FinetuneSeeds < 1) throw new LearngeneException($"fine-tuning seeds must be at least 1 (got {preset.FinetuneSeeds})", setting: "seeds");
        if (preset.SnNetWidestAnchor is not ("teacher" or "trained")) throw new LearngeneException($"SN-Net's widest anchor is 'teacher' or 'trained' (got '{preset.SnNetWidestAnchor}')", setting: "sn-net-anchor");
        var p = preset with { TeacherFile = preset.TeacherFile is null ? null : Path.GetFullPath(preset.TeacherFile) };
        ExperimentFolder.GuardPreset(runDir, p, q => q with { Description = "" });
        if (preset.ValidationImages > 0) // refused now, not after hours of training
        {
            int count = data.Raw(preset.Data).Train.Count, used = ValidationSkip(count);
            if (used + preset.ValidationImages > count)
                throw new LearngeneException($"{preset.Data} has {count} training images: {used} for training and {preset.ValidationImages} held out for validation do not fit", setting: "validation-images");
        }

        var teacherCell = p.TeacherFile is string file
            ? cells.Given("teacher", file)
            : cells.GetOrCompute("teacher", dir => cells.Train(dir, PoolPlan.TeacherSpec(p) with { TrainLimit = TeacherTrainLimit }, data, "source", "teacher", p.Teacher.Depth), log);
        teacherCell = cells.Need(teacherCell); // every member distils from it
        string teacherPath = cells.Resolve(teacherCell.ModelPath);
        var teacher = ModelFile.ReadConfig(teacherPath) as VitConfig
            ?? throw new LearngeneException($"{teacherPath}: the pool distils a ViT teacher's blocks, not a {ModelFile.ReadConfig(teacherPath).Family}", setting: "teacher");
        var context = new FamilyContext(teacherPath, teacher.Width, MacsOf(teacher));

        var instances = PoolInstances.Architectures(teacher, p.Widths.Length == 0 ? null : p.Widths, p.InstanceDepth);
        bool pool = selected.Any(f => f.Family == "pool"), snNet = selected.Any(f => f.Family == "sn-net");
        var instanceCells = !pool ? [] : instances.Select((arch, i) => PerModelCell($"instance-w{arch.Width}", arch, teacherPath, "pool-instance",
            FeatureDistillation.Factory.Name, JsonSerializer.Serialize(PoolInstances.Matching(i, arch.Depth, teacher.Depth), ModelConfig.Json))).ToList();
        // SN-Net stitches pre-trained models; in the paper's comparison its widest is the DeiT-B the pool distils from.
        var anchorCells = !snNet ? [] : instances.Select(arch => arch with { Depth = teacher.Depth })
            .Select(arch => p.SnNetWidestAnchor == "teacher" && arch.SameArchitecture(teacher)
                ? teacherCell : PerModelCell($"anchor-w{arch.Width}", arch, teacherPath, "sn-net-anchor", null, null)).ToList();

        var families = selected.Select(f => Family(f, f.Family == "pool" ? instanceCells : anchorCells, context)).ToList();
        cells.EndOfWorkerPass();
        var pretrained = instanceCells.Concat(anchorCells).Where(c => c.Name != teacherCell.Name).ToDictionary(c => c.Name);
        var splits = Splits(teacher.ImageSize);
        var results = new PoolResults
        {
            Preset = p, Teacher = teacherCell, Pretrained = pretrained, Families = families,
            TestImages = splits.Test.Count, ValidationImages = preset.ValidationImages,
            ComputeSeconds = teacherCell.Seconds + pretrained.Values.Sum(c => c.Seconds) + families.Sum(f => f.Finetunes.Sum(c => c.Seconds)),
            WallSeconds = cells.SaveWallSeconds(), Finished = DateTime.UtcNow,
        };
        data.Release(splits);
        ExperimentFolder.SaveResults(runDir, results);
        return results;
    }

    sealed record FamilyContext(string TeacherPath, int TeacherWidth, long TeacherMacs);

    /// <summary>The images every member trains on: the preset's limit, or all but the held-out validation images.</summary>
    int? MemberTrainLimit => preset.PerModelTrainLimit ?? AllButValidation;

    /// <summary>The teacher's images: the preset's limit, or all but the held-out validation images.</summary>
    int? TeacherTrainLimit => preset.TeacherTrainLimit ?? AllButValidation;

    int? AllButValidation => preset.ValidationImages > 0 ? data.Raw(preset.Data).Train.Count - preset.ValidationImages : null;

    CellResult PerModelCell(string name, VitConfig arch, string teacherPath, string role, string? objective, string? objectiveSettings) =>
        cells.GetOrCompute(name, dir => cells.Train(dir, PoolPlan.PerModelSpec(preset, arch, teacherPath, objective, objectiveSettings) with { TrainLimit = MemberTrainLimit },
            data, "source", role, arch.Depth), log);

    string PoolsDir => Path.Combine(runDir, "pools");

    /// <summary>A stitched family from its members: pooled, stitches initialized, fine-tuned once per seed,
    /// every configuration measured on the test and validation images, saved as one learngene file.</summary>
    FamilyResult Family(StitchedFamily f, IReadOnlyList<CellResult> allMembers, FamilyContext context)
    {
        // The authors' code pairs its narrowest and widest instances only; the middle one is not part of it.
        var members = f.Pairs == "ends" && allMembers.Count > 2 ? [allMembers[0], allMembers[^1]] : allMembers;
        string initFile = Path.Combine(PoolsDir, $"{f.Name}-init.safetensors");
        var finetunes = Enumerable.Range(preset.Seed, preset.FinetuneSeeds).Select(seed => cells.GetOrCompute($"finetune-{f.Name}-s{seed}", dir =>
        {
            if (!File.Exists(initFile) || !File.Exists(ResidualsPath(f.Name))) Assemble(f, members.Select(cells.Need).ToList(), initFile, context.TeacherWidth); // members other workers trained
            return cells.Train(dir, PoolPlan.FinetuneSpec(preset, f, seed, initFile, context.TeacherPath) with { TrainLimit = MemberTrainLimit }, data, "source", $"{f.Name}-finetune", 0);
        }, log)).ToList();
        // Workers train; measuring every configuration and writing the pool file is rank 0's gathering.
        if (cells.IsWorker) return new FamilyResult { Name = f.Name };

        string file = Path.Combine(runDir, $"{f.Name}.safetensors");
        var splits = Splits(ModelFile.ReadConfig(cells.Resolve(finetunes[0].ModelPath)).ImageSize);
        var validation = Validation(splits.Train.ImageSize);
        var perSeed = new List<MeasuredConfig[]>();
        try
        {
            foreach (var (cell, s) in finetunes.Select((c, s) => (c, s)))
            {
                var loaded = ModelFile.Load(cells.Resolve(cell.ModelPath));
                using var pool = (StitchPool)loaded.Model;
                var measured = PoolFile.Measure(pool, cell.History[^1].Test);
                if (validation is not null)
                {
                    var outcomes = ValidationOutcomes(cells.FolderOf(cell.Name), pool, validation, loaded.Normalization);
                    measured = measured.Select(c => c with { ValidationAccuracy = Statistics.TestOutcomes.Decode(outcomes[$"accuracy/{c.Id}"]).Average(b => b ? 1.0 : 0.0) }).ToArray();
                }
                perSeed.Add(measured);
            }
        }
        finally
        {
            if (validation is not null && !data.Holds(validation)) validation.Dispose();
        }
        var configurations = Mean(perSeed);
        long stored;
        {
            // The first seed's pool is the family's learngene file; its record carries the means over seeds.
            var loaded = ModelFile.Load(cells.Resolve(finetunes[0].ModelPath));
            using var pool = (StitchPool)loaded.Model;
            stored = pool.ParameterCount();
            PoolFile.Save(file, pool, new PoolRecord { Pool = pool.Pool, StitchInit = f.StitchInit, TestData = preset.Data, TestImages = splits.Test.Count, Configurations = configurations },
                new LearngeneInfo
                {
                    Method = f.Family, SourceData = preset.Data, ClassNames = loaded.ClassNames, Normalization = loaded.Normalization,
                    Teacher = cells.Relative(context.TeacherPath), ImagesSeen = finetunes[0].TrainImages, Seed = preset.Seed,
                });
        }
        var initial = InitialAccuracy(f.Name, initFile, splits);
        var residuals = ReadResiduals(f.Name);
        data.Release(splits);
        double meanMacs = configurations.Average(c => (double)c.MacsPerImage);
        double Flops(long images, double macs, bool teacher = true) => 2.0 * images * (3.0 * macs + (teacher ? context.TeacherMacs : 0)); // forward + backward, teacher forward
        var trainedMembers = members.Where(m => m.Name != "teacher").ToList(); // the teacher's own training is shared, not the family's
        return new FamilyResult
        {
            Name = f.Name, Family = f.Family, StitchInit = f.StitchInit, Pairs = f.Pairs, Finetuning = f.Describe(), File = cells.Relative(file),
            Members = members.Select(m => m.Name).ToArray(), StoredParameters = stored,
            PretrainImages = trainedMembers.Sum(m => m.TrainImages) + finetunes[0].TrainImages,
            PretrainFlops = trainedMembers.Sum(m => Flops(m.TrainImages, m.MacsPerImage)) + Flops(finetunes[0].TrainImages, meanMacs, teacher: f.Finetuning != "ce"), // plain CE runs no teacher
            Finetunes = finetunes, Configurations = configurations, InitialAccuracy = initial, Residuals = residuals,
        };
    }

    /// <summary>Each configuration's test and validation accuracy, the mean over seeds.</summary>
    static MeasuredConfig[] Mean(List<MeasuredConfig[]> perSeed) => perSeed[0].Select((c, i) => c with
    {
        Accuracy = perSeed.Average(s => s[i].Accuracy),
        ValidationAccuracy = perSeed.All(s => s[i].ValidationAccuracy is not null) ? perSeed.Average(s => s[i].ValidationAccuracy!.Value) : null,
    }).ToArray();

    /// <summary>The test and calibration images of every family (the members' training images, the
    /// preset's test images), at the pool's input size.</summary>
    DataSplits Splits(int imageSize) => data.Splits(preset.Data, imageSize, MemberTrainLimit, preset.Seed, preset.TestLimit, preset.Seed);

    /// <summary>The validation images: training images no model of the run trained on (after the members' and
    /// the teacher's subsets of the same seeded permutation); null when the preset keeps none.</summary>
    ImageDataset? Validation(int imageSize)
    {
        if (preset.ValidationImages <= 0) return null;
        var all = data.Raw(preset.Data, imageSize).Train;
        return all.Holdout(ValidationSkip(all.Count), preset.ValidationImages, preset.Seed);
    }

    /// <summary>The images of the seeded permutation some model of the run trains on. A given teacher's own
    /// training images are unknown here: the held-out images are unseen by every model trained in the run.</summary>
    int ValidationSkip(int count) => Math.Max(MemberTrainLimit ?? count, preset.TeacherFile is null ? TeacherTrainLimit ?? count : 0);

    /// <summary>Every configuration's per-image outcomes on the validation images (kept in the fine-tuning's
    /// cell folder, beside the model they measure; measured again when missing).</summary>
    Dictionary<string, string> ValidationOutcomes(string cellDir, StitchPool pool, ImageDataset validation, Normalization norm)
    {
        string path = Path.Combine(cellDir, "validation-outcomes.json");
        if (File.Exists(path))
            try { return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path), ModelConfig.Json) ?? []; }
            catch (JsonException) { } // damaged: measured again
        pool.eval();
        var (_, predictions) = StitchFineTuning.EvaluateAll(pool, validation, norm, preset.Recipe.EvalBatchSize, torch.CPU);
        var outcomes = predictions.Correct().ToDictionary(kv => kv.Key, kv => Statistics.TestOutcomes.Encode(kv.Value));
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(outcomes, ModelConfig.Json));
        return outcomes;
    }

    /// <summary>Every configuration's accuracy right after the stitch initialization, on the validation images
    /// when the run keeps them (it explains, it decides nothing; the test images are for what does), else on
    /// test (kept beside the starting model file; measured again from it when missing).</summary>
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
        var validation = Validation(splits.Train.ImageSize);
        Dictionary<string, double> initial;
        try { (initial, _) = StitchFineTuning.EvaluateAll(pool, validation ?? splits.Test, loaded.Normalization, preset.Recipe.EvalBatchSize, torch.CPU); }
        finally { if (validation is not null && !data.Holds(validation)) validation.Dispose(); }
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(initial, ModelConfig.Json));
        return initial;
    }

    string ResidualsPath(string name) => Path.Combine(PoolsDir, $"{name}-residuals.json");

    Dictionary<string, double> ReadResiduals(string name)
    {
        try { return File.Exists(ResidualsPath(name)) ? JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(ResidualsPath(name)), ModelConfig.Json) ?? [] : []; }
        catch (JsonException) { return []; }
    }

    /// <summary>The members' trained weights in one pool, stitch layers initialized, saved as the fine-tuning's
    /// starting model file; with each stitch point's residual on the calibration images.</summary>
    void Assemble(StitchedFamily f, IReadOnlyList<CellResult> members, string initFile, int teacherWidth)
    {
        var loaded = new List<ModelFile.Loaded>();
        var maps = new List<DistillationMaps>();
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
            splits = Splits(config.ImageSize);
            using var scope = torch.NewDisposeScope();
            var (calibration, _) = new BatchLoader(splits.Train, norm, preset.CalibrationImages, shuffle: true, augment: false, preset.Seed, epoch: 0).Batches().First();
            switch (f.StitchInit)
            {
                case "ls": pool.FitStitches(calibration); break;
                case "scratch": break; // the stitch layers keep their random (timm) initialization: the authors' other mode
                case LearnedStitchInit.Authors or LearnedStitchInit.Pinv:
                    for (int i = 0; i < config.Models.Length; i++)
                        maps.Add(DistillationMaps.Read(Path.Combine(cells.FolderOf(members[Source(i)].Name), Trainer.CheckpointName)));
                    LearnedStitchInit.Apply(pool, maps, teacherWidth, f.StitchInit);
                    break;
                default: throw new LearngeneException($"unknown stitch initialization '{f.StitchInit}' (expected {string.Join(", ", StitchedFamilies.StitchInits)})", setting: "stitch-init");
            }
            Directory.CreateDirectory(PoolsDir);
            AtomicFile.WriteAllText(ResidualsPath(f.Name), JsonSerializer.Serialize(pool.Residuals(calibration), ModelConfig.Json));
            ModelFile.Save(initFile, pool, norm, loaded[0].ClassNames, new Dictionary<string, string> { ["stitch_init"] = f.StitchInit, ["pairs"] = f.Pairs });
        }
        finally
        {
            foreach (var l in loaded) l.Model.Dispose();
            foreach (var m in maps) m.Dispose();
            if (splits is not null) data.Release(splits);
        }
    }

    static long MacsOf(VitConfig teacher)
    {
        using var m = new VisionTransformer(teacher);
        return m.MacsPerImage();
    }
}
