using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;

namespace Learngene.Methods;

/// <summary><c>learn tleg|sws</c>: an auxiliary ViT of a training preset's family, at the method's auxiliary
/// depth, distilled from a teacher with the authors' soft distillation (KD weight 1, CE 0, T = 1); its
/// trained weights, extracted by the method, are the learngene file.</summary>
public static class AuxiliaryLearning
{
    public static IReadOnlyList<Setting> Settings(IAuxiliaryMethod method) =>
    [
        new("preset", $"Model-and-budget preset: {string.Join(", ", TrainPresets.Registry.Names)} (default: small)"),
        new("model", "Model preset giving width, heads, patch (depth: the auxiliary depth)"),
        new("data", "Data set (default: fashion-mnist): mnist, fashion-mnist, imagefolder:PATH, cifar10:PATH, cifar100:PATH or idx:PATH"),
        new("teacher", "Teacher model file to distil from (required; train one with 'learngene train --model resnet-cpu'); soft distillation with weight 1 " +
            "on the KD term " +
                       "and 0 on cross-entropy, T = 1 (the authors' defaults; override with --distill-alpha, --temperature)"),
        new("device", "cpu or cuda (default: cpu)"),
        .. method.LearnOptions.Select(o => new Setting(o.Name, o.Description)),
        .. TrainingSettings.Architecture,
        .. TrainingSettings.Recipe,
    ];

    public static Learned Learn(IAuxiliaryMethod method, LearnRequest request)
    {
        var s = request.Settings;
        string preset = s.Text("preset") ?? "small", teacher = s.Required("teacher");
        // The preset's recipe goes to the method, which sets its distillation; settings given here override both.
        var presetSpec = TrainingSettings.FromPreset(preset, s.Text("model"), s.Text("data") ?? "fashion-mnist", s);
        var vit = presetSpec.Model as VitConfig ?? throw new LearngeneException($"{method.Name} learns a ViT, not a " +
            $"{presetSpec.Model.Family}", setting: "model");
        var own = method.LearnOptions.Where(o => s.Has(o.Name)).ToDictionary(o => o.Name, o => s.Text(o.Name)!);
        var (architecture, settings, recipe) = method.LearnSpec(vit, s.Int("depth"), own, TrainPresets.Registry.Find(preset).Options);
        var spec = presetSpec with
        {
            Model = architecture,
            MethodSettings = settings,
            Options = TrainingSettings.ApplyRecipe(recipe, s),
            Teacher = teacher,
            Method = method.Name,
            Device = s.Text("device") ?? "cpu",
        };
        var result = TrainRun.Start(spec, request.OutDir, request.Data, request.Observer, request.Log);
        return new Learned(result.ModelPath, [$"auxiliary model test accuracy {result.Final.TestAccuracy * 100:F2}% after {result.Final.Epoch} epochs"]);
    }
}
