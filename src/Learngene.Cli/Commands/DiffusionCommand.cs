using System.CommandLine;
using System.Text.Json;
using Learngene.Diffusion;
using Learngene.Experiments;
using Learngene.Experiments.Dit;
using Learngene.IO;
using Learngene.Models;
using Learngene.Runs;

namespace Learngene.Cli;

/// <summary><c>learngene diffusion train|sample|eval</c>: a class-conditional DiT, its samples, their quality.</summary>
static class DiffusionCommand
{
    public static Command Create()
    {
        var cmd = new Command("diffusion", "Class-conditional diffusion transformers (DiT): train, sample, evaluate.");
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(Sample());
        cmd.Subcommands.Add(Eval());
        return cmd;
    }

    static Option<string> Preset() => new("--preset") { Description = $"Size and budget: {string.Join("; ", DitPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
    static Option<string?> Classes(string what) => new("--classes") { Description = what };

    static Command Train()
    {
        var preset = Preset();
        var data = Shared.Data("mnist");
        var dataDir = Shared.DataDir();
        var classes = Classes("Train on these classes only (comma-separated indices of the data's classes, e.g. 0,1,2; default: all)");
        var output = new Option<string?>("--out") { Description = "Run folder to write (default: runs/diffusion-TIMESTAMP)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint" };
        var judge = new Option<string?>("--judge") { Description = "A classifier model file of the same classes: each epoch then also reports FD-clf and accuracy on samples" };
        var model = new Option<string?>("--model") { Description = $"DiT size, overriding the preset's: {string.Join(", ", ModelPresets.Registry.All.Where(p => p.Config is DitConfig).Select(p => p.Name))}" };
        var prediction = new Option<string?>("--prediction") { Description = "velocity (default) or noise: what the network predicts" };
        var emaDecay = new Option<double?>("--ema-decay") { Description = "Decay of the weight average sampling uses" };
        var evalPerClass = new Option<int?>("--eval-per-class") { Description = "Samples per class the per-epoch evaluation draws (with --judge)" };
        var threads = Shared.Threads();
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var training = new SettingOptions([.. TrainingSettings.Architecture, .. TrainingSettings.Recipe]);
        var c = new Command("train", "Train a class-conditional DiT with the diffusion objective (v- or ε-prediction, EMA); writes run.json, metrics.jsonl, tb/ (with sample grids), " +
                                     "checkpoint.safetensors and model.safetensors (the weight average) into --out. --resume continues exactly.");
        foreach (var o in new Option[] { preset, model, data, dataDir, classes, output, resume, judge, prediction, emaDecay, evalPerClass, device, threads }) c.Options.Add(o);
        training.AddTo(c);
        c.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var cache = Shared.Cache(r, dataDir);
            RunResult result;
            if (r.GetValue(resume) is string runDir)
                result = ConsoleProgress.Run(p => TrainRun.Resume(runDir, cache, null, p, ConsoleProgress.Log));
            else
            {
                var p = DitPreset.Registry.Find(r.GetValue(preset)!);
                if (r.GetValue(model) is string name)
                    p = p with { Model = ModelPresets.Registry.Find(name).Config as DitConfig ?? throw new LearngeneException($"model preset '{name}' is not a DiT", setting: "model") };
                var settings = p.Diffusion with
                {
                    Prediction = r.GetValue(prediction) ?? p.Diffusion.Prediction,
                    EmaDecay = r.GetValue(emaDecay) ?? p.Diffusion.EmaDecay,
                    EvalPerClass = r.GetValue(evalPerClass) ?? p.Diffusion.EvalPerClass,
                };
                Learngene.Training.Objectives.DiffusionObjective.ParsePrediction(settings.Prediction);
                string? judgeFile = r.GetValue(judge) is string j ? Path.GetFullPath(j) : null;
                if (judgeFile is not null && !File.Exists(judgeFile)) throw new LearngeneException($"{judgeFile}: no such file", setting: "judge");
                var s = DitExperiment.Spec(p with { Diffusion = settings }, r.GetValue(data)!, judgeFile, ParseClasses(r.GetValue(classes)));
                var spec = TrainingSettings.Apply(s, training.Given(r)) with { Device = r.GetValue(device)! };
                string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("diffusion");
                result = ConsoleProgress.Run(pr => TrainRun.Start(spec, dir, cache, pr, ConsoleProgress.Log));
            }
            var f = result.Final;
            Console.WriteLine($"EMA test loss {f.TestMetric("ema_loss"):G4} after {f.Epoch} epochs ({result.Parameters:N0} parameters, {result.MacsPerImage / 1e6:F1} M MACs per denoising step and image)" +
                              (f.Test.ContainsKey("fd_clf") ? $"; FD-clf {f.TestMetric("fd_clf"):G4}, accuracy on samples {f.TestMetric("sample_accuracy"):P1}" : ""));
            Console.WriteLine($"model: {result.ModelPath}");
            Console.WriteLine($"run folder: {result.RunDir}");
            return 0;
        });
        return c;
    }

    static int[]? ParseClasses(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Select(x => int.TryParse(x, out int k) ? k : throw new LearngeneException($"'{x}' in --classes is not a class index (expected e.g. 0,1,2)", setting: "classes")).ToArray();
    }

    sealed class SamplingOptions
    {
        public readonly Option<int> PerClass = new("--per-class") { Description = "Samples per class", DefaultValueFactory = _ => 8 };
        readonly Option<double> guidance = new("--guidance") { Description = "Classifier-free guidance scale (1: none)", DefaultValueFactory = _ => 4 };
        readonly Option<int> steps = new("--steps") { Description = "DDIM steps", DefaultValueFactory = _ => 50 };
        readonly Option<string> sampler = new("--sampler") { Description = "ddim or ddpm (every training step)", DefaultValueFactory = _ => "ddim" };
        readonly Option<double> eta = new("--eta") { Description = "DDIM's eta: 0 deterministic, 1 DDPM-like noise", DefaultValueFactory = _ => 0 };
        public readonly Option<int> Seed = new("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        readonly Option<bool> clip = new("--clip") { Description = "Clamp each step's predicted clean image to the data's range (guided-diffusion's clip_denoised)" };
        readonly Option<int> guidanceFrom = new("--guidance-from") { Description = "Guide only at diffusion steps t ≥ this (0..999; below it the conditional prediction alone, one pass a step)", DefaultValueFactory = _ => 0 };

        public void AddTo(Command c) { foreach (var o in new Option[] { PerClass, guidance, steps, sampler, eta, Seed, clip, guidanceFrom }) c.Options.Add(o); }

        public SamplingRecipe Recipe(ParseResult r) =>
            new SamplingRecipe(r.GetValue(steps), r.GetValue(guidance), r.GetValue(sampler)!, r.GetValue(eta))
            { ClipDenoised = r.GetValue(clip) ? true : null, GuidanceFrom = r.GetValue(guidanceFrom) is int g and not 0 ? g : null }.Validate();

        public int Count(ParseResult r) => r.GetValue(PerClass) is int n and >= 1 ? n : throw new LearngeneException("--per-class must be at least 1");
    }

    static Command Sample()
    {
        var file = new Argument<string>("MODEL") { Description = "A diffusion model file (model.safetensors of diffusion train)" };
        var classes = Classes("Classes to draw, by name or index (comma-separated; default: all)");
        var output = new Option<string?>("--out") { Description = "Folder for grid.png and CLASS/N.png (default: runs/samples-TIMESTAMP)" };
        var sampling = new SamplingOptions();
        var threads = Shared.Threads();
        var c = new Command("sample", "Draw samples of chosen classes: a grid PNG (one row per class) and every sample as its own PNG in an ImageFolder layout OUT/CLASS/N.png.");
        c.Arguments.Add(file);
        foreach (var o in new Option[] { classes, output, threads }) c.Options.Add(o);
        sampling.AddTo(c);
        c.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var recipe = sampling.Recipe(r);
            int perClass = sampling.Count(r);
            using var model = DiffusionFile.Load(r.GetValue(file)!);
            var wanted = model.ClassIndices(r.GetValue(classes)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("samples");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (images, labels) = model.Draw(wanted, perClass, recipe, r.GetValue(sampling.Seed));
            double seconds = clock.Elapsed.TotalSeconds;
            using (images) using (labels) ImageFiles.SaveSamples(images, labels, model.ClassNames, perClass, dir);
            Console.WriteLine($"{wanted.Length * perClass} samples ({recipe.Describe()}) in {seconds:F1} s; grid: {Path.Combine(dir, "grid.png")}; images: {dir}/CLASS/N.png");
            return 0;
        });
        return c;
    }

    static Command Eval()
    {
        var file = new Argument<string>("MODEL") { Description = "A diffusion model file" };
        var data = Shared.Data("mnist");
        var dataDir = Shared.DataDir();
        var judge = new Option<string?>("--judge") { Description = "A classifier model file of the model's classes (default: train one with the judge preset's recipe, cached under --judges)" };
        var judges = new Option<string>("--judges") { Description = "Folder of cached judge classifiers", DefaultValueFactory = _ => Path.Combine("runs", "judges") };
        var judgePreset = new Option<string>("--judge-preset") { Description = "Whose judge recipe trains a missing judge: smoke, small or paper", DefaultValueFactory = _ => "small" };
        var output = new Option<string?>("--out") { Description = "Also write eval.json, grid.png and the samples (OUT/CLASS/N.png) here" };
        var sampling = new SamplingOptions();
        var threads = Shared.Threads();
        var c = new Command("eval", "FD-clf (Fréchet distance of a project classifier's penultimate features, not FID) and the classifier's accuracy on samples of every class, " +
                                    "with the reference rows (real training images, and noise, against the test images).");
        c.Arguments.Add(file);
        foreach (var o in new Option[] { data, dataDir, judge, judges, judgePreset, output, threads }) c.Options.Add(o);
        sampling.AddTo(c);
        c.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var recipe = sampling.Recipe(r);
            int perClass = sampling.Count(r);
            using var model = DiffusionFile.Load(r.GetValue(file)!);
            var cache = Shared.Cache(r, dataDir);
            string name = r.GetValue(data)!;
            var splits = cache.Raw(name, model.Network.Architecture.ImageSize, ConsoleProgress.Log);
            string judgePath;
            if (r.GetValue(judge) is string given) judgePath = given;
            else
            {
                var store = new CellStore(r.GetValue(judges)!);
                var judgeBudget = DitPreset.Registry.Find(r.GetValue(judgePreset)!);
                judgeBudget = judgeBudget with { Judge = judgeBudget.Judge with { ImageSize = model.Network.Architecture.ImageSize } }; // it reads the model's samples
                var cell = DitExperiment.TrainJudge(store, cache, judgeBudget, name, model.ClassesIn(splits.Train), ConsoleProgress.Log);
                judgePath = store.Resolve(cell.ModelPath);
                Console.WriteLine($"judge: {judgePath} (its own test accuracy {cell.FinalAccuracy:P2})");
            }
            var loaded = ModelFile.Load(judgePath);
            using var judgeModel = loaded.Model;
            using var judged = DitExperiment.Score(model, loaded, splits, perClass, recipe, r.GetValue(sampling.Seed));
            var (scores, images, labels) = (judged.Scores, judged.Images, judged.Labels);
            {
                Console.WriteLine(scores.Describe());
                foreach (var (cls, acc) in scores.ClassAccuracy) Console.WriteLine($"  {cls}: {acc:P1}");
                if (r.GetValue(output) is string dir)
                {
                    AtomicFile.WriteAllText(Path.Combine(dir, "eval.json"), JsonSerializer.Serialize(scores, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));
                    ImageFiles.SaveSamples(images, labels, model.ClassNames, perClass, dir);
                    Console.WriteLine($"written: {Path.Combine(dir, "eval.json")}, grid.png and the samples");
                }
            }
            return 0;
        });
        return c;
    }
}
