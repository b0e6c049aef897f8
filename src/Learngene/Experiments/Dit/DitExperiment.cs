using System.Diagnostics;
using System.Text.Json;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Metrics;
using Learngene.Models;
using Learngene.Runs;
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
            Judge = judgeCell, Dit = ditCell, Curve = curve,
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
        cells.GetOrCompute($"judge-{name}{(classes is null ? "" : "-" + string.Join("-", classes))}", dir => cells.Train(dir, new RunSpec
        {
            Data = name, Classes = classes, Model = judge, Options = recipe, TrainLimit = trainLimit, TestSeed = recipe.Seed,
        }, data, "source", "judge", judge.Depth), log);

    /// <summary>The DiT training run of a preset on a data set: the diffusion objective with the preset's
    /// settings, judged each epoch by <paramref name="judgePath"/> when given (a DiT of the data's size then
    /// takes the judge's, which reads its samples).</summary>
    public static RunSpec Spec(DitPreset preset, string data, string? judgePath, int[]? classes = null) => new()
    {
        Data = data, Options = preset.Recipe, TrainLimit = preset.TrainLimit, TestLimit = preset.TestLimit,
        TestSeed = preset.Recipe.Seed, Classes = classes, Objective = DiffusionObjective.Kind.Name,
        ObjectiveSettings = JsonSerializer.Serialize(preset.Diffusion with { Judge = judgePath }, ModelConfig.Json),
        Model = judgePath is not null && preset.Model.ImageSize == 0 ? preset.Model with { ImageSize = ModelFile.ReadConfig(judgePath).ImageSize } : preset.Model,
    };

    /// <summary>The final evaluation of a trained DiT (cached as final.json in its own cell folder).</summary>
    DitDataResult Evaluate(string name, CellResult ditCell, string judgePath, int size)
    {
        string dir = cells.FolderOf($"final-{name}");
        return ExperimentFolder.Cached(Path.Combine(dir, "final.json"), () =>
        {
            log($"[final-{name}] sampling {preset.FinalPerClass} per class ({preset.Diffusion.Sampling.Describe()})");
            using var scope = torch.NewDisposeScope();
            using var model = DiffusionFile.Load(cells.Resolve(ditCell.ModelPath));
            var judge = ModelFile.Load(judgePath);
            using var judgeModel = judge.Model;
            var (scores, images, labels) = Score(model, judge, data.Raw(name, size), preset.FinalPerClass, preset.Diffusion.Sampling, SampleSeed);
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
    /// class names when it was trained on some of them): FD-clf, accuracy per class, the reference rows.</summary>
    public static (SampleScores Scores, Tensor Images, Tensor Labels) Score(DiffusionModel model, ModelFile.Loaded judge, DataSplits splits, int perClass, SamplingRecipe recipe, int seed)
    {
        var classes = model.ClassesIn(splits.Train);
        var (drawn, read) = (model.Network.Architecture, judge.Model.Config);
        if ((drawn.ImageSize, drawn.Channels) != (read.ImageSize, read.Channels))
            throw new LearngeneException($"the judge reads {read.Channels}×{read.ImageSize}×{read.ImageSize} images, the model draws {drawn.Channels}×{drawn.ImageSize}×{drawn.ImageSize}", setting: "judge");
        if (!judge.ClassNames.SequenceEqual(model.ClassNames)) throw new LearngeneException($"the judge classifies [{string.Join(", ", judge.ClassNames)}], the model draws [{string.Join(", ", model.ClassNames)}]", setting: "judge");
        var real = classes is null ? splits : splits.WithClasses(classes);
        try
        {
            var clock = Stopwatch.StartNew();
            var (images, labels) = model.Draw(model.ClassIndices(null), perClass, recipe, seed);
            double seconds = clock.Elapsed.TotalSeconds;
            var quality = new GenerationQuality(judge.Model, judge.Normalization);
            using var pixels = GenerationQuality.Pixels(real.Test);
            using var testFeatures = quality.Features(pixels);
            var (trainVsTest, noiseVsTest) = quality.References(real.Train, testFeatures, (int)images.shape[0], seed);
            var scores = new SampleScores
            {
                FdClf = quality.FdClfAgainst(images, testFeatures),
                ClassAccuracy = quality.ClassAccuracy(images, labels).ToDictionary(kv => model.ClassNames[kv.Key], kv => kv.Value),
                SamplesPerClass = perClass, Sampling = recipe, FdTrainVsTest = trainVsTest, FdNoiseVsTest = noiseVsTest, SamplingSeconds = seconds,
            };
            return (scores, images, labels);
        }
        finally { if (classes is not null) { real.Train.Dispose(); real.Test.Dispose(); } }
    }
}
