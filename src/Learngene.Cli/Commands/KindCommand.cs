using System.CommandLine;
using Learngene.Experiments.Dit;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Runs;

namespace Learngene.Cli;

/// <summary>KIND's verbs: <c>learn kind</c> (pre-train an SVD-form DiT, write its learngene), <c>train kind</c>
/// (transfer the learngenes to new classes with fresh tailors); recombination is <c>expand GENE --tailors</c>,
/// through the method contract (<see cref="KindMethod"/>).</summary>
static class KindCommand
{
    static Option<string> Preset() => new("--preset") { Description = $"DiT size and budget: {string.Join("; ", DitPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
    static Option<string?> Classes(string text) => new("--classes") { Description = text };
    static Option<string?> Judge() => new("--judge") { Description = "A classifier model file of the run's classes: each epoch then also reports FD-clf and accuracy on samples" };

    /// <summary>The diffusion run the options describe (a DiT preset, data, classes, recipe and architecture options).</summary>
    static RunSpec DiffusionSpec(ParseResult r, Option<string> preset, Option<string> data, Option<string?> classes, Option<string?> judge, ArchitectureOptions arch, RecipeOptions recipe)
    {
        var p = DitPreset.Registry.Find(r.GetValue(preset)!);
        string? judgeFile = r.GetValue(judge) is string j ? Path.GetFullPath(j) : null;
        if (judgeFile is not null && !File.Exists(judgeFile)) throw new LearngeneException($"{judgeFile}: no such file", setting: "judge");
        var s = DitExperiment.Spec(p, r.GetValue(data)!, judgeFile, ParseList(r.GetValue(classes), "--classes"));
        return s with
        {
            Model = arch.Apply(r, s.Model), Options = recipe.Apply(r, s.Options),
            TrainLimit = recipe.TrainLimit(r) ?? s.TrainLimit, TestLimit = recipe.TestLimit(r) ?? s.TestLimit,
        };
    }

    public static int[]? ParseList(string? text, string option) => KindMethod.ParseIndices(text, option);

    public static Command Learn()
    {
        var preset = Preset();
        var data = Shared.Data("mnist+fashion-mnist");
        var dataDir = Shared.DataDir();
        var classes = Classes("Pre-training classes (indices of the data's classes; default: all)");
        var learngeneRank = new Option<int>("--learngene-rank") { Description = "Learngene (class-agnostic) components per matrix", DefaultValueFactory = _ => 48 };
        var tailorRank = new Option<int>("--tailor-rank") { Description = "Tailor components per class block", DefaultValueFactory = _ => 8 };
        var tailors = new Option<string?>("--tailor-map") { Description = "The tailor block of each class, e.g. 0,0,1,1 (classes may share; −1: none); default: one block per class" };
        var qkv = new Option<string>("--qkv") { Description = "separate (q, k and v each decomposed on its own, as the authors' DivControl states KIND's decomposition) or fused (one decomposition of the stacked qkv)", DefaultValueFactory = _ => "separate" };
        var orthogonality = new Option<double>("--orthogonality") { Description = "Weight of the penalty keeping U and V orthonormal (0: off; on, it couples every component)", DefaultValueFactory = _ => 0 };
        var judge = Judge();
        var output = new Option<string?>("--out") { Description = $"Run folder (default: runs/learn-kind-TIMESTAMP); the learngene is {TrainRun.GeneName}" };
        var resume = new Option<string?>("--resume") { Description = "Continue the learning run in this folder from its last checkpoint" };
        var threads = Shared.Threads();
        var arch = new ArchitectureOptions();
        var recipe = new RecipeOptions();
        var cmd = new Command("kind", "KIND: train a DiT in SVD form with the diffusion objective, each sample's class gating its tailor components (knowledge diversion); " +
                                      $"writes the run (model.safetensors) and the learngene ({TrainRun.GeneName}: learngenes, shared parts and the pre-training tailors).");
        foreach (var o in new Option[] { preset, data, dataDir, classes, learngeneRank, tailorRank, tailors, qkv, orthogonality, judge, output, resume, threads }) cmd.Options.Add(o);
        arch.AddTo(cmd);
        recipe.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var cache = Shared.Cache(r, dataDir);
            RunResult result;
            if (r.GetValue(resume) is string runDir) result = ConsoleProgress.Run(p => TrainRun.Resume(runDir, cache, null, p, ConsoleProgress.Log));
            else
            {
                var spec = KindRuns.LearnSpec(DiffusionSpec(r, preset, data, classes, judge, arch, recipe), r.GetValue(learngeneRank), r.GetValue(tailorRank),
                    ParseList(r.GetValue(tailors), "--tailor-map"), r.GetValue(orthogonality), r.GetValue(qkv) switch
                    {
                        "separate" => true,
                        "fused" => false,
                        var other => throw new LearngeneException($"--qkv must be separate or fused (got '{other}')", setting: "qkv"),
                    });
                string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("learn-kind");
                result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, cache, p, ConsoleProgress.Log));
            }
            string gene = KindRuns.SaveGene(result);
            Console.WriteLine($"EMA test loss {result.Final.TestMetric("ema_loss"):G4} after {result.Final.Epoch} epochs ({result.Parameters:N0} parameters)");
            Console.WriteLine($"learngene: {gene}");
            return 0;
        });
        return cmd;
    }

    public static Command Train()
    {
        var gene = new Option<string>("--gene") { Description = "A kind learngene file (learngene learn kind)", Required = true };
        var preset = Preset();
        var data = Shared.Data("mnist");
        var dataDir = Shared.DataDir();
        var classes = Classes("The new classes (indices of the data's classes; default: all)");
        var tune = new Option<bool>("--tune-learngenes") { Description = "Train the learngene components too (default: frozen; tailors and the class table train)" };
        var tailorRank = new Option<int?>("--tailor-rank") { Description = "Components per fresh tailor block (default: the learngene's)" };
        var tailorMap = new Option<string?>("--tailor-map") { Description = "The fresh tailor block of each new class, e.g. 0,0,0,0,0 (one shared block); default: one block per class" };
        var tailorInit = new Option<string>("--tailor-init") { Description = "How fresh tailors start: random (orthonormal directions at a fresh layer's singular value; every component trains from the first step) or zero (zero singular values: the model starts as its learngenes alone)", DefaultValueFactory = _ => "random" };
        var nullTailor = new Option<bool>("--null-tailor") { Description = "Give the null class (guidance's unconditional branch) a tailor block of its own, so it adapts to the new classes too (default: the learngenes alone)" };
        var judge = Judge();
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/train-kind-TIMESTAMP)" };
        var threads = Shared.Threads();
        var recipe = new RecipeOptions();
        var cmd = new Command("kind", "Transfer a KIND learngene to new classes: the learngenes plus fresh tailors (one block per class), training only the tailors and the class table; " +
                                      "reports trainable parameters and MACs. Resume with 'learngene diffusion train --resume'.");
        foreach (var o in new Option[] { gene, preset, data, dataDir, classes, tune, tailorRank, tailorMap, tailorInit, nullTailor, judge, output, threads }) cmd.Options.Add(o);
        recipe.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var cache = Shared.Cache(r, dataDir);
            string genePath = r.GetValue(gene)!;
            if (!File.Exists(genePath)) throw new LearngeneException($"{genePath}: no such file", setting: "gene");
            string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("train-kind");
            var spec = KindRuns.TransferSpec(genePath, DiffusionSpec(r, preset, data, classes, judge, new ArchitectureOptions(), recipe), r.GetValue(tune), dir, cache,
                ParseList(r.GetValue(tailorMap), "--tailor-map"), r.GetValue(tailorRank), Learngene.Methods.Kind.KindPreset.ZeroTailors(r.GetValue(tailorInit)!), r.GetValue(nullTailor));
            using (var shape = new Learngene.Models.DiffusionTransformer((DitConfig)spec.Model))
                Console.WriteLine($"{spec.Model.Describe()}: {shape.parameters().Where(p => p.requires_grad).Sum(p => p.numel()):N0} of {shape.parameters().Sum(p => p.numel()):N0} parameters train, {shape.MacsPerImage() / 1e6:F1} M MACs per denoising step and image");
            var result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, cache, p, ConsoleProgress.Log));
            var f = result.Final;
            Console.WriteLine($"EMA test loss {f.TestMetric("ema_loss"):G4} after {f.Epoch} epochs" + (f.Test.ContainsKey("fd_clf") ? $"; FD-clf {f.TestMetric("fd_clf"):G4}, accuracy on samples {f.TestMetric("sample_accuracy"):P1}" : ""));
            Console.WriteLine($"model: {result.ModelPath}");
            return 0;
        });
        return cmd;
    }
}
