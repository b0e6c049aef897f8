using System.CommandLine;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;

namespace Learngene.Cli;

/// <summary><c>learngene train</c>: a preset (model + budget) with every field overridable.</summary>
static class TrainCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model-and-budget preset: {string.Join("; ", TrainPresets.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var model = new Option<string?>("--model") { Description = $"Model preset, overriding the preset's: {string.Join(", ", ModelPresets.Registry.All.Select(p => p.Name))}" };
        var data = Shared.Data();
        var dataDir = Shared.DataDir();
        var output = new Option<string?>("--out") { Description = "Run folder to write (default: runs/train-TIMESTAMP)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint" };
        var teacher = new Option<string?>("--teacher") { Description = "Model file to distil from (with --distill soft|hard)" };
        var init = new Option<string?>("--init")
        {
            Description = "Model file to start from (e.g. a descendant written by 'expand'; its architecture is used, the head is re-created for another class count), " +
            $"or an initializer for the model given by --model/--depth…: {string.Join("; ", Learngene.Baselines.Initializers.Initializers.Registry.All.Select(i => $"{i.Name} ({i.Description})"))}"
        };
        var ancestry = new Option<string?>("--ancestry") { Description = "The trained model an initializer takes weights from (weight-selection, heur-lg, auto-lg: a ViT; pretrain-finetune: a model of the same size)" };
        var initSettings = new SettingOptions(Learngene.Baselines.Initializers.Initializers.AllSettings);
        var threads = Shared.Threads();
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var training = new SettingOptions([.. TrainingSettings.Architecture, .. TrainingSettings.Recipe]);

        var cmd = new Command("train", "Train a model (ViT or ResNet) on a data set; writes run.json, metrics.jsonl, tb/, checkpoint.safetensors and model.safetensors into --out.");
        foreach (var o in new Option[] { preset, model, data, dataDir, output, resume, teacher, init, ancestry, device, threads }) cmd.Options.Add(o);
        initSettings.AddTo(cmd);
        training.AddTo(cmd);
        cmd.Subcommands.Add(KindCommand.Train());
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var cache = Shared.Cache(r, dataDir);
            RunResult result;
            if (r.GetValue(resume) is string runDir)
            {
                var saved = RunSpec.Load(runDir);
                var given = training.Given(r);
                ModelConfig? requested = TrainingSettings.AnyArchitecture(given) ? TrainingSettings.ApplyArchitecture(saved.Model, given) : null;
                result = ConsoleProgress.Run(p => TrainRun.Resume(runDir, cache, requested, p, ConsoleProgress.Log));
            }
            else
            {
                var spec = TrainingSettings.FromPreset(r.GetValue(preset)!, r.GetValue(model), r.GetValue(data)!, training.Given(r)) with
                {
                    Teacher = r.GetValue(teacher),
                    Device = r.GetValue(device)!,
                    Init = r.GetValue(init),
                    Ancestry = r.GetValue(ancestry),
                    InitSettings = initSettings.Given(r).Values.ToDictionary(),
                };
                string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("train");
                result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, cache, p, ConsoleProgress.Log));
            }
            Summarize(result);
            return 0;
        });
        return cmd;
    }

    public static void Summarize(RunResult result)
    {
        var f = result.Final;
        Console.WriteLine($"test accuracy {f.TestAccuracy * 100:F2}% after {f.Epoch} epochs ({result.Parameters:N0} parameters, {result.MacsPerImage / 1e6:F1} M MACs/image)");
        Console.WriteLine($"model: {result.ModelPath}");
        Console.WriteLine($"run folder: {result.RunDir}");
    }
}
