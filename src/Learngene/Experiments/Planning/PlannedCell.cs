using Learngene.Data;
using Learngene.Models;
using Learngene.Runs;
using TorchSharp;

namespace Learngene.Experiments.Planning;

/// <summary>One training of an experiment's plan, as a preset's run would start it: its cell's name and
/// run spec (data, model, recipe, objective, method). What the run would read from an earlier cell's file
/// is given here instead: the teacher's architecture, and how the starting network is built when it is made
/// from other networks (a transfer's adapters, a stitched pool) — at full size, with random weights.</summary>
public sealed record PlannedCell(string Name, RunSpec Spec)
{
    /// <summary>The architecture of the model the run distils from (its spec names a file the plan has not made).</summary>
    public ModelConfig? Teacher { get; init; }

    /// <summary>Builds the network the run starts from; null: the spec's own (its method's auxiliary model or its family's network).</summary>
    public Func<DataShape, torch.nn.Module>? Start { get; init; }

    /// <summary>Tells apart starts of one architecture that train differently (LoRA and PiSSA of one rank).</summary>
    public string Variant { get; init; } = "";

    /// <summary>Cells whose trainings are the same computation: one architecture, start, objective, teacher and
    /// batch on data of one shape (they differ in seeds, data or what initializes them).</summary>
    public string Signature(DataShape shape) => string.Join("|",
        System.Text.Json.JsonSerializer.Serialize(Spec.Model, ModelConfig.Json), Spec.Method, Spec.MethodSettings, Spec.Objective ?? "", Spec.ObjectiveSettings,
        Teacher is null ? "" : System.Text.Json.JsonSerializer.Serialize(Teacher, ModelConfig.Json), Spec.Options.BatchSize, Variant,
        shape.ImageSize, shape.Channels, shape.Classes);
}
