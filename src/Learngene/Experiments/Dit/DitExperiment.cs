using System.Diagnostics;
using System.Text.Json;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Metrics;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Statistics;
using Learngene.Training;
using Learngene.Training.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Experiments.Dit;

/// <summary>The DiT experiment (<c>learngene bench dit</c>): for each data set, a judge classifier trained on
/// the real training images, a DiT trained with the diffusion objective (FD-clf and accuracy on samples after
/// every epoch), then a final evaluation of the weight average with more samples, the reference rows, a grid
/// of samples and every sample as an ImageFolder. Every step is a cached cell, so a rerun resumes.</summary>
public sealed class DitExperiment(DitPreset preset, string runDir, DataCache data, Action<string> log)
{
    readonly CellStore cells = new(runDir);

    /// <summary>The sampling seed of the final evaluation (the per-epoch one uses the training seed's).</summary>
    const int SampleSeed = 2024;

    public DitResults Run()
    {
        ExperimentFolder.GuardPreset(runDir, preset, p => p with { Description = "" });
        var results = new List<DitDataResult>();
        foreach (var name in preset.Data) results.Add(RunOne(name));
        cells.EndOfWorkerPass();
        var all = new DitResults { Preset = preset, Data = results, WallSeconds = cells.SaveWallSeconds(), Finished = DateTime.UtcNow };
        ExperimentFolder.SaveResults(runDir, all);
        return all;
    }

    DitDataResult RunOne(string name)
    {
        var sized = Sized(preset, data.Raw(name).Train.ImageSize);
        var judgeCell = cells.Need(TrainJudge(cells, data, sized, name, null, log)); // the DiT's training is judged by it
        string judgePath = cells.Resolve(judgeCell.ModelPath);
        var spec = Spec(sized, name, judgePath);
        var ditCell = cells.GetOrCompute($"dit-{name}", dir => cells.Train(dir, spec, data, "source", "dit", preset.Model.Depth), log);
        // Workers train; the final sampling and scoring are rank 0's gathering.
        if (cells.IsWorker) return new DitDataResult { Data = name };
        var final = Evaluate(name, ditCell, judgePath, sized.Model.ImageSize);
        var history = ditCell.History;
        double minutes = 0;
        var curve = history.Select(h =>
        {
            minutes += h.Seconds / 60;
            return new CurvePoint(h.Epoch, h.ImagesSeen, minutes, h.TestMetric("loss"), h.TestMetric("ema_loss"), h.TestMetric("fd_clf"), h.TestMetric("sample_accuracy"), h.TestMetric("sample_accuracy_min"));
        }).ToList();
        return final with
        {
            Judge = judgeCell,
            Dit = ditCell,
            Curve = curve,
            ImagesPerSecond = history.Sum(h => h.ImagesSeen > 0 ? h.ImagesPerSecond * h.Seconds : 0) / Math.Max(1e-9, history.Sum(h => h.Seconds)),
            TrainMinutes = history.Sum(h => h.Seconds) / 60,
        };
    }

    /// <summary>The preset with its DiT and judge at one image size for data of <paramref name="dataSize"/>: the
    /// preset's own, or the nearest size both patch sizes divide (the judge reads the DiT's samples).</summary>
    public static DitPreset Sized(DitPreset preset, int dataSize)
    {
        int size = CommonSize(preset.Model, preset.Judge, dataSize);
        return preset with { Model = preset.Model with { ImageSize = size }, Judge = preset.Judge with { ImageSize = size } };
    }

    /// <summary>The one image size of a DiT and the judge that reads its samples: the one either sets, or the
    /// nearest to <paramref name="dataSize"/> that both patch sizes divide.</summary>
    public static int CommonSize(DitConfig model, VitConfig judge, int dataSize) =>
        model.ImageSize > 0 ? model.ImageSize : judge.ImageSize > 0 ? judge.ImageSize : InputSize.Fit(dataSize, model.PatchSize, judge.PatchSize);

    /// <summary>The judge of a data set (or of some of its classes): the preset's classifier trained on the
    /// real training images, a cached cell named after them.</summary>
    public static CellResult TrainJudge(CellStore cells, DataCache data, DitPreset preset, string name, int[]? classes, Action<string>? log) =>
        TrainJudge(cells, data, preset.Judge, preset.JudgeRecipe with { Seed = preset.Recipe.Seed }, preset.JudgeTrainLimit, name, classes, log);

    public static CellResult TrainJudge(CellStore cells, DataCache data, VitConfig judge, TrainOptions recipe, int? trainLimit, string name, int[]? classes, Action<string>? log) =>
        cells.GetOrCompute(JudgeName(name, classes), dir => cells.Train(dir, JudgeSpec(judge, recipe, trainLimit, name, classes), data, "source", "judge", judge.Depth), log);

    public static string JudgeName(string data, int[]? classes) => $"judge-{data}{(classes is null ? "" : "-" + string.Join("-", classes))}";

    public static RunSpec JudgeSpec(VitConfig judge, TrainOptions recipe, int? trainLimit, string data, int[]? classes) => new()
    {
        Data = data, Classes = classes, Model = judge, Options = recipe, TrainLimit = trainLimit, TestSeed = recipe.Seed,
    };

    /// <summary>The DiT training run of a preset on a data set: the diffusion objective with the preset's
    /// settings, judged each epoch by <paramref name="judgePath"/> when given (a DiT of the data's size then
    /// takes the judge's, which reads its samples).</summary>
    public static RunSpec Spec(DitPreset preset, string data, string? judgePath, int[]? classes = null) => new()
    {
        Data = data, Options = preset.Recipe, TrainLimit = preset.TrainLimit, TestLimit = preset.TestLimit,
        TestSeed = preset.Recipe.Seed, Classes = classes, Objective = DiffusionObjective.Factory.Name,
        ObjectiveSettings = JsonSerializer.Serialize(preset.Diffusion with { Judge = judgePath }, ModelConfig.Json),
        Model = judgePath is not null && preset.Model.ImageSize == 0 ? preset.Model with { ImageSize = ModelFile.ReadConfig(judgePath).ImageSize } : preset.Model,
    };

    /// <summary>The final evaluation of a trained DiT (cached as final.json in its own cell folder).</summary>
    DitDataResult Evaluate(string name, CellResult ditCell, string judgePath, int size)
    {
        string dir = cells.FolderOf($"final-{name}");
        DropStaleFinal<DitDataResult>(Path.Combine(dir, "final.json"), preset.FinalPerClass, d => d.Final);
        return ExperimentFolder.Cached(Path.Combine(dir, "final.json"), () =>
        {
            log($"[final-{name}] sampling {preset.FinalPerClass} per class ({preset.Diffusion.Sampling.Describe()})");
            using var scope = torch.NewDisposeScope();
            using var model = DiffusionFile.Load(cells.Resolve(ditCell.ModelPath));
            var judge = ModelFile.Load(judgePath);
            using var judgeModel = judge.Model;
            using var judged = Score(model, judge, data.Raw(name, size), preset.FinalPerClass, preset.Diffusion.Sampling, SampleSeed, preset.TestLimit);
            var (scores, images, labels) = (judged.Scores, judged.Images, judged.Labels);
            JudgedSamples.SaveEvidence(Path.Combine(dir, EvidenceName), judged.Features, judged.TestLosses);
            string grid = Path.Combine(runDir, $"samples-{name}.png");
            ImageFiles.SavePng(ImageFiles.Grid(SampleGrid.Rows(images, model.ClassNames.Length, preset.FinalPerClass, 10), Math.Min(10, preset.FinalPerClass)), grid);
            string folder = Path.Combine(dir, "samples");
            ImageFiles.SaveFolder(images, labels, model.ClassNames, folder);
            log($"[final-{name}] {scores.Describe()}");
            return new DitDataResult { Data = name, ClassNames = model.ClassNames, Final = scores, Grid = cells.Relative(grid), SamplesFolder = cells.Relative(folder) };
        }, cached => log($"[final-{name}] cached: FD-clf {cached.Final.FdClf:G4}, accuracy on samples {cached.Final.MeanAccuracy:P1}"));
    }

    /// <summary>Draws <paramref name="perClass"/> samples of every class of <paramref name="model"/> and
    /// judges them against the real images of those classes (<paramref name="splits"/> cut to the model's
    /// class names when it was trained on some of them): FD-clf with its bootstrap interval over the samples,
    /// accuracy per class, the reference rows, patch seams, and the denoising loss of every test image (or of a
    /// seeded subset of <paramref name="testLimit"/>).</summary>
    public static JudgedSamples Score(DiffusionModel model, ModelFile.Loaded judge, DataSplits splits, int perClass, SamplingRecipe recipe, int seed, int? testLimit = null)
    {
        var classes = model.ClassesIn(splits.Train);
        var (drawn, read) = (model.Network.Architecture, judge.Model.Config);
        if ((drawn.ImageSize, drawn.Channels) != (read.ImageSize, read.Channels))
            throw new LearngeneException($"the judge reads {read.Channels}×{read.ImageSize}×{read.ImageSize} images, the model draws {drawn.Channels}×{drawn.ImageSize}×{drawn.ImageSize}", setting: "judge");
        if (!judge.ClassNames.SequenceEqual(model.ClassNames)) throw new LearngeneException($"the judge classifies [{string.Join(", ", judge.ClassNames)}], the model draws [{string.Join(", ", model.ClassNames)}]", setting: "judge");
        var real = classes is null ? splits : splits.WithClasses(classes);
        try
        {
            if (real.Test.Count == 0) throw new LearngeneException($"{real.Test.Name} has no test images of the model's classes to judge samples against", setting: "data");
            var clock = Stopwatch.StartNew();
            var (images, labels) = model.Draw(model.ClassIndices(null), perClass, recipe, seed);
            double seconds = clock.Elapsed.TotalSeconds;
            try
            {
                using var scope = torch.NewDisposeScope();
                var quality = new GenerationQuality(judge.Model, judge.Normalization);
                var testPixels = GenerationQuality.Pixels(real.Test);
                using var reference = new FrechetDistance.Reference(quality.Features(testPixels));
                int n = (int)images.shape[0];
                var features = quality.Features(images);
                var (realFd, noiseFd) = quality.References(real.Train, reference, n, seed);
                // FD-clf's interval over the samples; the real-data reference is one fixed draw, so its ratio's interval is FD-clf's scaled.
                var fdClf = Bootstrap.EstimateMany(1, n, d => [FrechetDistance.Against(reference, features, d.Counts)], FdResamples, centred: true)[0];
                // The loss is paired over test images: every model scored with one limit meets the same subset.
                var lossImages = testLimit is int limit ? real.Test.Subset(limit, LossSeed) : real.Test;
                var losses = DenoisingLoss.PerImage(model.Network, lossImages, model.Schedule, model.Prediction, LossSeed);
                if (!ReferenceEquals(lossImages, real.Test)) lossImages.Dispose();
                double mean = losses.Average(v => (double)v), sd = Math.Sqrt(losses.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, losses.Length - 1));
                int patch = drawn.PatchSize;
                var onePass = OnePassSteps.ToDictionary(t => t, t =>
                {
                    using var estimates = DenoisingLoss.OnePassEstimates(model.Network, real.Test, model.Schedule, model.Prediction, t, SeamImages, LossSeed);
                    return PatchSeams.Ratio(estimates, patch);
                });
                var scores = new SampleScores
                {
                    FdClf = fdClf.Estimate, FdClfInterval = fdClf, FdRatio = realFd > 0 ? new Interval(fdClf.Estimate / realFd, fdClf.Low / realFd, fdClf.High / realFd) : null,
                    ClassAccuracy = quality.ClassAccuracy(images, labels).ToDictionary(kv => model.ClassNames[kv.Key], kv => kv.Value),
                    SamplesPerClass = perClass, Sampling = recipe, SamplingSeconds = seconds,
                    FdTrainVsTest = realFd, FdNoiseVsTest = noiseFd,
                    SeamRatio = Finite(PatchSeams.Ratio(images, patch)), SeamInterval = SeamInterval(images, patch), RealSeamRatio = Finite(PatchSeams.Ratio(testPixels.narrow(0, 0, Math.Min(SeamImages, real.Test.Count)), patch)),
                    OnePassSeamRatio = onePass.Values.All(double.IsFinite) ? onePass : null,
                    TestLoss = mean, TestLossSe = sd / Math.Sqrt(Math.Max(1, losses.Length)), TestImages = losses.Length,
                };
                return new JudgedSamples(scores, images, labels, features.to(float32).MoveToOuterDisposeScope(), losses);
            }
            catch { images.Dispose(); labels.Dispose(); throw; }
        }
        finally { if (classes is not null) { real.Train.Dispose(); real.Test.Dispose(); } }
    }

    /// <summary>Removes a cached final evaluation that cannot serve: one without its evidence file (made before the
    /// evidence was kept, or a partial copy) or drawn with another number of samples per class.</summary>
    public static void DropStaleFinal<T>(string finalJson, int perClass, Func<T, SampleScores> scores) where T : class
    {
        if (!File.Exists(finalJson)) return;
        string evidence = Path.Combine(Path.GetDirectoryName(finalJson)!, EvidenceName);
        int? drawn = null;
        try { drawn = JsonSerializer.Deserialize<T>(File.ReadAllText(finalJson), ModelConfig.Json) is { } made ? scores(made).SamplesPerClass : null; }
        catch (JsonException) { }
        if (!File.Exists(evidence) || drawn != perClass) File.Delete(finalJson);
    }

    /// <summary>The file beside a final evaluation's scores that holds its samples' features and test losses.</summary>
    public const string EvidenceName = "evidence.safetensors";

    /// <summary>Bootstrap resamples of an FD-clf interval (each an eigendecomposition; 1 000 keep a final evaluation's
    /// intervals to seconds).</summary>
    public const int FdResamples = 1000;
    /// <summary>The seed of the test images' steps and noise: one for every model and sampling seed, so that any
    /// two models' per-image losses on the same images pair.</summary>
    public const int LossSeed = 2024;
    /// <summary>Steps at which the network's one-pass clean estimates are checked for seams, on this many test images.</summary>
    static readonly int[] OnePassSteps = [100, 300, 600];
    const int SeamImages = 500;

    static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>The samples' patch-seam ratio with its bootstrap interval over the samples (null when undefined).</summary>
    static Interval? SeamInterval(Tensor images, int patch)
    {
        var (across, inside) = PatchSeams.PerImage(images, patch);
        if (across.Length == 0 || inside.Sum() == 0) return null;
        var i = Bootstrap.Estimate(1, across.Length, d => d.Mean(across) / d.Mean(inside));
        return double.IsFinite(i.Low) && double.IsFinite(i.High) ? i : null;
    }
}
