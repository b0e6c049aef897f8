using System.Text.Json;
using Learngene.Baselines.Tuning;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.Experiments;
using Learngene.Experiments.Dit;
using Learngene.IO;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Runs;
using Learngene.Training.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Kind;

/// <summary>The KIND experiment (<c>learngene bench kind</c>, docs/experiments/kind.md): a judge of the pre-training classes;
/// KIND's SVD-form DiT and an ordinary DiT pre-trained on them with one recipe and budget; the learngene;
/// knowledge diversion (each class drawn from the learngenes plus its tailor, and from the learngenes alone);
/// then per novel-class task a judge and every method transferred with one recipe and data over the preset's
/// transfer seeds — KIND (learngenes frozen, fresh tailors; also with a null tailor block, and from the ungated
/// ablation), LoRA and PiSSA (rank matched so that they train at least as many parameters as any KIND variant),
/// SVDiff, full fine-tuning and a layer-inheriting learngene baseline — each judged by FD-clf, accuracy on
/// samples and the paired test loss, and compared by intervals (<see cref="KindComparisons"/>). Every step is
/// a cached cell, so a rerun resumes.</summary>
public sealed class KindExperiment(KindPreset preset, string runDir, DataCache data, Action<string> log)
{
    /// <summary>The methods compared by default.</summary>
    public static readonly string[] DefaultMethods = ["kind", "kind-null", "kind-nogate", "lora", "pissa", "svdiff", "full", "heur-lg"];
    /// <summary>And, on request, KIND with its learngenes tuned too, and LoRA and PiSSA at the rank that matches it.</summary>
    public static readonly string[] AllMethods = [.. DefaultMethods, "kind-tune", "lora-wide", "pissa-wide"];

    readonly CellStore cells = new(runDir);
    const int SampleSeed = 2024;

    /// <summary>Every network of the experiment (DiTs and judges) takes one image size: the preset's, or the
    /// pre-training data's resized to the nearest size both patch sizes divide; transfer data is resized to it.</summary>
    int Size => size ??= DitExperiment.CommonSize(preset.Model, preset.Judge, data.Raw(preset.PretrainData).Train.ImageSize);
    int? size;
    DitConfig Model => preset.Model with { ImageSize = Size };
    VitConfig Judge => preset.Judge with { ImageSize = Size };

    public KindResults Run()
    {
        // Methods and seeds may be added to a folder (their cells are new; a seed's share of the samples is redrawn); the budget may not change.
        ExperimentFolder.GuardPreset(runDir, preset, p => p with { Description = "", Methods = [], TransferSeeds = 0 });
        if (preset.Methods.FirstOrDefault(m => !AllMethods.Contains(m)) is { } unknown)
            throw new LearngeneException($"unknown transfer method '{unknown}' (known: {string.Join(", ", AllMethods)})", setting: "methods");
        preset.ZeroTailors(); // an unknown tailor initialization is refused before anything trains
        if (preset.NullTailor && preset.Methods.Contains("kind-null"))
            throw new LearngeneException("with null_tailor set, kind already gives the null class a tailor block: kind-null would be the same method (drop it, or unset null_tailor)", setting: "methods");
        int channels = data.Raw(preset.PretrainData).Train.Channels; // refused now, not after the pre-training
        if (preset.Tasks.FirstOrDefault(t => data.Raw(t.Data).Train.Channels != channels) is { } other)
            throw new LearngeneException($"{other.Data} has {data.Raw(other.Data).Train.Channels} channels, the pre-training data {preset.PretrainData} {channels}: a transferred DiT draws the channels it was pre-trained on", setting: "data");
        var judgeRecipe = preset.JudgeRecipe with { Seed = preset.PretrainRecipe.Seed };
        var preJudge = cells.Need(DitExperiment.TrainJudge(cells, data, Judge, judgeRecipe, preset.JudgeTrainLimit, preset.PretrainData, preset.PretrainClasses, log));
        string preJudgePath = cells.Resolve(preJudge.ModelPath);

        var kindConfig = KindPlan.KindConfig(preset, Model);
        var kindCell = cells.GetOrCompute("pretrain-kind", dir => cells.Train(dir, Spec(preset.PretrainData, preset.PretrainClasses, kindConfig, preset.PretrainRecipe, preset.PretrainLimit, preJudgePath, null), data, "source", "kind", preset.Model.Depth), log);
        var ditCell = cells.GetOrCompute("pretrain-dit", dir => cells.Train(dir, Spec(preset.PretrainData, preset.PretrainClasses, Model, preset.PretrainRecipe, preset.PretrainLimit, preJudgePath, null), data, "source", "dit", preset.Model.Depth), log);
        // The ablation without diversion: the same SVD-form DiT and budget, every component shared (no class gate).
        bool ungated = preset.Methods.Contains("kind-nogate");
        var sharedCell = ungated ? cells.GetOrCompute("pretrain-kind-nogate", dir => cells.Train(dir, Spec(preset.PretrainData, preset.PretrainClasses, KindPlan.UngatedConfig(kindConfig), preset.PretrainRecipe, preset.PretrainLimit, preJudgePath, null), data, "source", "kind-nogate", preset.Model.Depth), log) : null;
        // The transfers start from both (two workers train them at once with --workers mpi).
        (kindCell, ditCell) = (cells.Need(kindCell), cells.Need(ditCell));
        if (sharedCell is not null) sharedCell = cells.Need(sharedCell);
        using var shared = sharedCell is null ? null : ModelFile.LoadDiffusion(cells.Resolve(sharedCell.ModelPath)).Model;

        string genePath = Path.Combine(cells.FolderOf("pretrain-kind"), TrainRun.GeneName);
        if (!File.Exists(genePath)) KindGene.Save(cells.Resolve(kindCell.ModelPath), genePath, preset.PretrainData, kindCell.TrainImages, preset.PretrainRecipe.Seed);
        using var gene = KindGene.Load(genePath);
        if (cells.IsWorker)
        {
            // Workers train the transfers; the samples, scores and diversion are rank 0's gathering.
            foreach (var t in preset.Tasks) RunTask(t, gene, shared, cells.Resolve(ditCell.ModelPath));
            cells.EndOfWorkerPass();
        }
        var kindScores = Judged("pretrain-kind", cells.Resolve(kindCell.ModelPath), preJudgePath, preset.PretrainData, preset.PretrainPerClass ?? preset.FinalPerClass);
        var ditScores = Judged("pretrain-dit", cells.Resolve(ditCell.ModelPath), preJudgePath, preset.PretrainData, preset.PretrainPerClass ?? preset.FinalPerClass);
        var diversion = Diversion(gene, preJudgePath);

        var tasks = preset.Tasks.Select(t => RunTask(t, gene, shared, cells.Resolve(ditCell.ModelPath))).ToList();
        var (learngene, tailor) = KindCosts.Stored(gene.Network);
        var results = new KindResults
        {
            Preset = preset, PretrainJudge = preJudge, KindPretrain = kindCell, DitPretrain = ditCell,
            KindPretrainScores = kindScores.Scores, DitPretrainScores = ditScores.Scores, Learngene = cells.Relative(genePath),
            LearngeneParameters = learngene, TailorParametersPerBlock = tailor, Diversion = diversion, Tasks = tasks, UngatedPretrain = sharedCell,
            WallSeconds = cells.SaveWallSeconds(), Finished = DateTime.UtcNow,
        };
        ExperimentFolder.SaveResults(runDir, results);
        return results;
    }


    /// <summary>A diffusion training run: the preset's objective settings, judged each epoch.</summary>
    RunSpec Spec(string dataName, int[] classes, DitConfig model, Training.TrainOptions recipe, int? limit, string judgePath, string? init) =>
        KindPlan.Spec(preset, dataName, classes, model, recipe, limit, judgePath, init);

    TaskResult RunTask(TransferTask task, KindGene.Loaded gene, DiffusionTransformer? shared, string ditPath)
    {
        var judge = cells.Need(DitExperiment.TrainJudge(cells, data, Judge, preset.JudgeRecipe with { Seed = preset.PretrainRecipe.Seed }, preset.JudgeTrainLimit, task.Data, task.Classes, log));
        string judgePath = cells.Resolve(judge.ModelPath);
        var names = task.Classes.Select(k => data.Raw(task.Data).Train.ClassNames[k]).ToArray();
        var pre = ModelFile.LoadDiffusion(ditPath);
        using var dense = pre.Model;
        int k = task.Classes.Length;
        // LoRA and PiSSA get the smallest rank at which they train at least as much as KIND (the null-tailor
        // variant's extra block included when it runs).
        var (rank, wide) = KindPlan.MatchedRanks(preset, gene, dense, k);
        var methods = new List<TransferResult>();
        foreach (var method in preset.Methods)
            for (int seedIndex = 0; seedIndex < preset.SeedsOf(method); seedIndex++)
            {
                // The first seed's cells keep their names, so a folder made with one seed gains the others.
                string id = $"{task.Id}-{method}" + (seedIndex == 0 ? "" : $"-seed{seedIndex}");
                int seed = preset.TransferRecipe.Seed + seedIndex;
                string initPath = Path.Combine(cells.FolderOf($"init-{id}"), "init.safetensors");
                if (!File.Exists(initPath))
                {
                    // Every method's fresh tensors (class rows, adapters, layers) from the same seed, whatever was cached before.
                    torch.manual_seed(seed);
                    using var model = KindPlan.Start(preset, method, gene, shared, dense, k, seed, rank, wide);
                    Directory.CreateDirectory(Path.GetDirectoryName(initPath)!);
                    ModelFile.Save(initPath, model, model, pre.Normalization, names, method is "kind" or "kind-null" or "kind-tune" ? gene.Provenance() : pre.Metadata.Where(kv => kv.Key is DiffusionFile.PredictionKey or DiffusionFile.StepsKey).ToDictionary());
                }
                var config = (DitConfig)ModelFile.ReadConfig(initPath);
                var trainOnly = ModelFile.TrainOnlyOf(IO.SafeTensors.ReadMetadata(initPath));
                var recipe = preset.TransferRecipe with { Seed = seed };
                var cell = cells.GetOrCompute($"transfer-{id}", dir => cells.Train(dir, Spec(task.Data, task.Classes, config, recipe, preset.TransferLimit, judgePath, initPath), data, "transfer", method, config.Depth), log);
                if (cells.IsWorker) continue;
                // Every method draws at least FinalPerClass per class over its seeds, each seed from its own noise.
                int perClass = (preset.FinalPerClass + preset.SeedsOf(method) - 1) / preset.SeedsOf(method);
                var (scores, grid) = Judged($"transfer-{id}", cells.Resolve(cell.ModelPath), judgePath, task.Data, perClass, SampleSeed + seedIndex);
                using var shape = new DiffusionTransformer(config) { TrainOnly = trainOnly };
                methods.Add(new TransferResult
                {
                    Method = method, SeedIndex = seedIndex, Trains = KindCosts.Trains(config, trainOnly), TrainableParameters = shape.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
                    Parameters = cell.Parameters, MacsPerStep = cell.MacsPerImage, DeployedMacsPerStep = shape.MacsPerImage(deployed: true),
                    ImagesPerSecond = cell.History.Sum(h => h.ImagesPerSecond * h.Seconds) / Math.Max(1e-9, cell.History.Sum(h => h.Seconds)),
                    Minutes = cell.History.Sum(h => h.Seconds) / 60, Final = scores, Cell = cell, Grid = grid,
                    Evidence = cells.Relative(Path.Combine(cells.FolderOf($"final-transfer-{id}"), DitExperiment.EvidenceName)),
                });
            }
        if (cells.IsWorker) return new TaskResult { Task = task, ClassNames = names, Judge = judge, Methods = methods };
        // Cached with the runs they read: adding methods or seeds to the folder recomputes them.
        var runs = methods.Select(m => m.Evidence).ToArray();
        string path = Path.Combine(cells.FolderOf($"comparisons-{task.Id}"), "comparisons.json");
        if (File.Exists(path))
        {
            try { if (JsonSerializer.Deserialize<TaskComparisons>(File.ReadAllText(path), ModelConfig.Json)?.Runs.SequenceEqual(runs) != true) File.Delete(path); }
            catch (JsonException) { File.Delete(path); }
        }
        var c = ExperimentFolder.Cached(path, () =>
        {
            log($"[comparisons-{task.Id}] intervals: every method over its seeds, each KIND variant against the others");
            var raw = data.Raw(task.Data, Size);
            using var train = raw.Train.WithClasses(task.Classes);
            using var test = raw.Test.WithClasses(task.Classes);
            var (summaries, comparisons, real) = KindComparisons.Of(methods, cells.Resolve, judgePath, train, test);
            return new TaskComparisons(runs, summaries, comparisons, real);
        }, _ => log($"[comparisons-{task.Id}] cached"));
        return new TaskResult { Task = task, ClassNames = names, Judge = judge, Methods = methods, Summaries = c.Summaries, Comparisons = c.Comparisons, RealReference = c.RealReference };
    }

    /// <summary>A trained model's final scores and sample grid (cached as final.json in its own folder).</summary>
    (SampleScores Scores, string Grid) Judged(string name, string modelPath, string judgePath, string dataName, int perClass, int sampleSeed = SampleSeed)
    {
        string grid = Path.Combine(runDir, $"samples-{name}.png");
        string final = Path.Combine(cells.FolderOf($"final-{name}"), "final.json");
        DitExperiment.DropStaleFinal<SampleScores>(final, perClass, s => s);
        var scores = ExperimentFolder.Cached(final, () =>
        {
            log($"[final-{name}] sampling {perClass} per class ({preset.Diffusion.Sampling.Describe()})");
            using var scope = torch.NewDisposeScope();
            using var model = DiffusionFile.Load(modelPath);
            var judge = ModelFile.Load(judgePath);
            using var judgeModel = judge.Model;
            using var judged = DitExperiment.Score(model, judge, data.Raw(dataName, Size), perClass, preset.Diffusion.Sampling, sampleSeed, preset.TestLimit);
            var (scores, images) = (judged.Scores, judged.Images);
            JudgedSamples.SaveEvidence(Path.Combine(cells.FolderOf($"final-{name}"), DitExperiment.EvidenceName), judged.Features, judged.TestLosses);
            int perRow = Math.Min(10, perClass);
            ImageFiles.SavePng(ImageFiles.Grid(SampleGrid.Rows(images, model.ClassNames.Length, perClass, perRow), perRow), grid);
            log($"[final-{name}] {scores.Describe()}");
            return scores;
        }, done => log($"[final-{name}] cached: {done.Describe()}"));
        return (scores, cells.Relative(grid));
    }

    /// <summary>Knowledge diversion: each pre-training class drawn from the learngenes plus its tailor (a
    /// recombined one-class model), from the learngenes alone under its label, and with the next class's
    /// tailor under its label (which of the two does the judge see: the label's class or the tailor's?);
    /// the judge's shares (cached as diversion.json).</summary>
    List<DiversionRow> Diversion(KindGene.Loaded gene, string judgePath) =>
        ExperimentFolder.Cached(Path.Combine(cells.FolderOf("diversion"), "diversion.json"), () => DrawDiversion(gene, judgePath), _ => log("[diversion] cached"));

    List<DiversionRow> DrawDiversion(KindGene.Loaded gene, string judgePath)
    {
        log($"[diversion] drawing {preset.DiversionPerClass} per class from each recombined model");
        var judge = ModelFile.Load(judgePath);
        using var judgeModel = judge.Model;
        var quality = new Metrics.GenerationQuality(judge.Model, judge.Normalization);
        var schedule = new NoiseSchedule(gene.Diffusion.DiffusionSteps);
        var prediction = DiffusionObjective.ParsePrediction(gene.Diffusion.Prediction);
        int n = gene.Network.Architecture.Classes, per = preset.DiversionPerClass;
        using var alone = KindGene.Recombine(gene, []);
        var rows = new List<DiversionRow>();
        for (int c = 0; c < n; c++)
        {
            using var scope = torch.NewDisposeScope();
            using var one = KindGene.Recombine(gene, [c]);
            var wanted = torch.full(per, (long)c);
            var (withTailor, _) = ClassSamples.Draw(one, schedule, prediction, [0], per, preset.Diffusion.Sampling, SampleSeed + c);
            var (without, _) = ClassSamples.Draw(alone, schedule, prediction, [c], per, preset.Diffusion.Sampling, SampleSeed + c);
            // Label c with the tailor of c' = the next class: the recombined c' model with c's class row.
            int other = (c + 1) % n;
            using var swapped = KindGene.Recombine(gene, [other]);
            using (torch.no_grad()) swapped.LabelEmbedder.Table.weight![0].copy_(gene.Network.LabelEmbedder.Table.weight![c]);
            var (mixed, _) = ClassSamples.Draw(swapped, schedule, prediction, [0], per, preset.Diffusion.Sampling, SampleSeed + c);
            rows.Add(new DiversionRow(gene.Info.ClassNames[c], quality.ClassAccuracy(withTailor, wanted)[c], quality.ClassAccuracy(without, wanted)[c])
            {
                SwappedTailor = gene.Info.ClassNames[other],
                SwappedAsLabel = quality.ClassAccuracy(mixed, wanted)[c],
                SwappedAsTailor = quality.ClassAccuracy(mixed, torch.full(per, (long)other))[other],
            });
            var row = rows[^1];
            log($"[diversion] {row.Class}: {row.WithTailor:P0} with its tailor, {row.LearngenesOnly:P0} from the learngenes alone; under its label with {row.SwappedTailor}'s tailor {row.SwappedAsLabel:P0} {row.Class}, {row.SwappedAsTailor:P0} {row.SwappedTailor}");
        }
        return rows;
    }
}
