using System.CommandLine;
using Learngene.Genes;
using Learngene.Runs;

namespace Learngene.Cli;

/// <summary><c>learngene learn METHOD</c>: train a method's auxiliary model by distillation from a teacher
/// and write the learngene file.</summary>
static class LearnCommand
{
    public static Command Create()
    {
        var cmd = new Command("learn", "Learn a learngene: train a method's auxiliary model by distillation from a teacher.");
        foreach (var method in Methods.Registry.All) cmd.Subcommands.Add(ForMethod(method));
        return cmd;
    }

    static Command ForMethod(ILearngeneMethod method)
    {
        var preset = new Option<string>("--preset") { Description = "Model-and-budget preset (smoke, small, paper)", DefaultValueFactory = _ => "small" };
        var model = new Option<string?>("--model") { Description = "Model preset giving width, heads, patch (depth: the auxiliary depth)" };
        var data = Shared.Data();
        var dataDir = Shared.DataDir();
        var teacher = new Option<string>("--teacher") { Description = "Teacher model file (train one with 'learngene train --model resnet-cpu')", Required = true };
        var output = new Option<string?>("--out") { Description = $"Run folder (default: runs/learn-{method.Name}-TIMESTAMP); the learngene is {TrainRun.GeneName}" };
        var threads = Shared.Threads();
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var stages = new Option<string?>("--stages") { Description = "SWS stage sizes, e.g. 3,3,4,3,3 (default: the paper's for depth 16, else the same proportions)" };
        var arch = new ArchitectureOptions();
        var recipe = new RecipeOptions();
        var cmd = new Command(method.Name, method.Description + ". Soft distillation with weight 1 on the KD term and 0 on cross-entropy, T = 1 (the authors' defaults; override with --distill-alpha, --temperature).");
        foreach (var o in new Option[] { preset, model, data, dataDir, teacher, output, device, threads }) cmd.Options.Add(o);
        if (method.Name == "sws") cmd.Options.Add(stages);
        arch.AddTo(cmd);
        recipe.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var spec = TrainCommand.BuildSpec(r.GetValue(preset)!, r.GetValue(model), r.GetValue(data)!, arch, recipe, r, LearnDefaults);
            spec = spec with { Model = spec.Model with { Pooling = "avg" }, Teacher = r.GetValue(teacher), Method = method.Name, Device = r.GetValue(device)! };
            if (method.Name == "sws" && r.GetValue(stages) is string st)
            {
                var sizes = Learngene.Genes.Sws.SwsLayout.Parse(st);
                if (sizes.Any(x => x < 1)) throw new LearngeneException($"--stages {st}: every stage needs at least one layer");
                spec = spec with { Model = spec.Model with { Depth = sizes.Sum() }, MethodSettings = System.Text.Json.JsonSerializer.Serialize(new Learngene.Genes.Sws.SwsMethod.Settings(sizes), Learngene.Models.ModelConfig.Json) };
            }
            else if (r.GetResult(arch.Depth) is null or { Implicit: true })
                spec = spec with { Model = spec.Model with { Depth = method.DefaultAuxiliaryDepth } };
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"learn-{method.Name}-{DateTime.Now:yyyyMMdd-HHmmss}");
            var result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, Shared.Catalog(r, dataDir), p, ConsoleProgress.Log));
            Console.WriteLine($"auxiliary model test accuracy {result.Final.TestAccuracy * 100:F2}% after {result.Final.Epoch} epochs");
            Console.WriteLine($"learngene: {result.ModelPath}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The authors' distillation: KD only (alpha 1), temperature 1.</summary>
    static Training.TrainOptions LearnDefaults(Training.TrainOptions o) => o with { Distill = "soft", DistillAlpha = 1.0, Temperature = 1.0 };
}
