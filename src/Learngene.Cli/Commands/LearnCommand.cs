using System.CommandLine;
using Learngene.Methods;
using Learngene.Runs;
using Learngene.Training;

namespace Learngene.Cli;

/// <summary><c>learngene learn METHOD</c>: train a method's auxiliary model by distillation from a teacher
/// and write the learngene file.</summary>
static class LearnCommand
{
    public static Command Create()
    {
        var cmd = new Command("learn", "Learn a learngene: train a method's auxiliary model by distillation from a teacher.");
        foreach (var method in LearngeneMethods.Auxiliary) cmd.Subcommands.Add(ForMethod(method));
        cmd.Subcommands.Add(LearnPoolCommand.Create()); // many models and a fine-tuning: its own pipeline
        cmd.Subcommands.Add(KindCommand.Learn()); // a diffusion model in SVD form: its own pipeline
        return cmd;
    }

    static Command ForMethod(IAuxiliaryMethod method)
    {
        var preset = new Option<string>("--preset") { Description = "Model-and-budget preset (smoke, small, paper)", DefaultValueFactory = _ => "small" };
        var model = new Option<string?>("--model") { Description = "Model preset giving width, heads, patch (depth: the auxiliary depth)" };
        var data = Shared.Data();
        var dataDir = Shared.DataDir();
        var teacher = new Option<string>("--teacher") { Description = "Teacher model file (train one with 'learngene train --model resnet-cpu')", Required = true };
        var output = new Option<string?>("--out") { Description = $"Run folder (default: runs/learn-{method.Name}-TIMESTAMP); the learngene is {TrainRun.GeneName}" };
        var threads = Shared.Threads();
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        // The method's own settings, each an option (SWS: --stages).
        var own = method.LearnOptions.Select(o => new Option<string?>("--" + o.Name) { Description = o.Description }).ToList();
        var arch = new ArchitectureOptions();
        var recipe = new RecipeOptions();
        var cmd = new Command(method.Name, method.Description + ". Soft distillation with weight 1 on the KD term and 0 on cross-entropy, T = 1 (the authors' defaults; override with --distill-alpha, --temperature).");
        foreach (var o in new Option[] { preset, model, data, dataDir, teacher, output, device, threads }) cmd.Options.Add(o);
        foreach (var o in own) cmd.Options.Add(o);
        arch.AddTo(cmd);
        recipe.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var given = own.Where(o => r.GetValue(o) is not null).ToDictionary(o => o.Name.TrimStart('-'), o => r.GetValue(o)!);
            int? depth = r.GetResult(arch.Depth) is null or { Implicit: true } ? null : r.GetValue(arch.Depth);
            // The preset's recipe goes to the method, which sets its distillation; options given here override both.
            var presetSpec = TrainCommand.BuildSpec(r.GetValue(preset)!, r.GetValue(model), r.GetValue(data)!, arch, recipe, r);
            var (architecture, settings, methodRecipe) = method.LearnSpec(presetSpec.Model as Learngene.Models.VitConfig ?? throw new LearngeneException($"{method.Name} learns a ViT, not a {presetSpec.Model.Family} (--model)"), depth, given, TrainPresets.Registry.Find(r.GetValue(preset)!).Options);
            var spec = presetSpec with
            {
                Model = architecture, MethodSettings = settings, Options = recipe.Apply(r, methodRecipe),
                Teacher = r.GetValue(teacher), Method = method.Name, Device = r.GetValue(device)!,
            };
            string dir = r.GetValue(output) ?? Shared.TimestampedRunDir($"learn-{method.Name}");
            var result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, Shared.Cache(r, dataDir), p, ConsoleProgress.Log));
            Console.WriteLine($"auxiliary model test accuracy {result.Final.TestAccuracy * 100:F2}% after {result.Final.Epoch} epochs");
            Console.WriteLine($"learngene: {result.ModelPath}");
            return 0;
        });
        return cmd;
    }
}
