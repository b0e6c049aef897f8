using System.CommandLine;
using Learngene.Experiments.Dit;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Runs;

namespace Learngene.Cli;

/// <summary><c>train kind</c>: transfer KIND's learngenes to new classes with fresh tailors. Learning
/// (<c>learn kind</c>) and recombination (<c>expand GENE --tailors</c>) go through the method contract
/// (<see cref="KindMethod"/>).</summary>
static class KindCommand
{
    public static Command Train()
    {
        var gene = new Option<string>("--gene") { Description = "A kind learngene file (learngene learn kind)", Required = true };
        var diffusion = new SettingOptions([.. KindRuns.DiffusionSettings("mnist", "The new classes (indices of the data's classes; default: all)"), .. TrainingSettings.Recipe]);
        var dataDir = Shared.DataDir();
        var tune = new Option<bool>("--tune-learngenes") { Description = "Train the learngene components too (default: frozen; tailors and the class table train)" };
        var tailorRank = new Option<int?>("--tailor-rank") { Description = "Components per fresh tailor block (default: the learngene's)" };
        var tailorMap = new Option<string?>("--tailor-map") { Description = "The fresh tailor block of each new class, e.g. 0,0,0,0,0 (one shared block); default: one block per class" };
        var tailorInit = new Option<string>("--tailor-init") { Description = "How fresh tailors start: random (orthonormal directions at a fresh layer's singular value; every component trains from the first step) or zero (zero singular values: the model starts as its learngenes alone)", DefaultValueFactory = _ => "random" };
        var nullTailor = new Option<bool>("--null-tailor") { Description = "Give the null class (guidance's unconditional branch) a tailor block of its own, so it adapts to the new classes too (default: the learngenes alone)" };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/train-kind-TIMESTAMP)" };
        var threads = Shared.Threads();
        var cmd = new Command("kind", "Transfer a KIND learngene to new classes: the learngenes plus fresh tailors (one block per class), training only the tailors and the class table; " +
                                      "reports trainable parameters and MACs. Resume with 'learngene diffusion train --resume'.");
        cmd.Options.Add(gene);
        diffusion.AddTo(cmd);
        foreach (var o in new Option[] { dataDir, tune, tailorRank, tailorMap, tailorInit, nullTailor, output, threads }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var cache = Shared.Cache(r, dataDir);
            string genePath = r.GetValue(gene)!;
            if (!File.Exists(genePath)) throw new LearngeneException($"{genePath}: no such file", setting: "gene");
            string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("train-kind");
            var spec = KindRuns.TransferSpec(genePath, KindRuns.DiffusionSpec(diffusion.Given(r), "mnist"), r.GetValue(tune), dir, cache,
                KindMethod.ParseIndices(r.GetValue(tailorMap), "--tailor-map"), r.GetValue(tailorRank), Learngene.Methods.Kind.KindPreset.ZeroTailors(r.GetValue(tailorInit)!), r.GetValue(nullTailor));
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
