using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>A tensor the optimizer updates, and whether weight decay applies to it.</summary>
public sealed record TrainableParameter(string Name, Parameter Param, bool Decay);

/// <summary>A model (or an objective's own module) that decides itself what trains and what decays
/// (a method that freezes parts, a tuning baseline that trains only some).</summary>
public interface IParameterGroups
{
    IEnumerable<TrainableParameter> TrainableParameters();
}

public static class ParameterGroups
{
    /// <summary>The module's own choice when it makes one, else DeiT's rule: every parameter that requires
    /// a gradient trains; weight decay applies to matrices and conv kernels only, not to biases, norms,
    /// positional embeddings or class tokens.</summary>
    public static IEnumerable<TrainableParameter> Of(nn.Module module, string prefix = "") =>
        (module is IParameterGroups own ? own.TrainableParameters() : Default(module))
            .Select(p => prefix == "" ? p : p with { Name = prefix + p.Name });

    public static IEnumerable<TrainableParameter> Default(nn.Module module) =>
        module.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => new TrainableParameter(p.name, p.parameter,
                Decay: p.parameter.dim() >= 2 && !p.name.EndsWith("pos_embed") && !p.name.EndsWith("cls_token")));
}
