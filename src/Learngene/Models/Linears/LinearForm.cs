using System.Text.Json.Serialization;
using Learngene.Baselines.Tuning;
using Learngene.Methods.Kind;

namespace Learngene.Models.Linears;

/// <summary>The form of a DiT's block linears (qkv, proj, fc1, fc2), stored in its config (absent: plain
/// matrices). Each form builds its layer; KIND's also gates components by class.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "form")]
[JsonDerivedType(typeof(SvdForm), "svd")]
[JsonDerivedType(typeof(LoraForm), "lora")]
[JsonDerivedType(typeof(PissaForm), "pissa")]
[JsonDerivedType(typeof(SvdiffForm), "svdiff")]
public abstract record LinearForm
{
    public abstract BlockLinear Create(int inFeatures, int outFeatures);
    public abstract string Describe();
    /// <summary>The per-sample gate of a class-gated form; null for the others.</summary>
    public virtual ClassGate? Gate => null;
    /// <summary>Whether the attention's q, k and v are three matrices of this form rather than one stacked matrix.</summary>
    [JsonIgnore] public virtual bool SeparateQkv => false;
    /// <summary>Name fragments of the tensors the form adds for tuning (what a tuned model trains).</summary>
    public virtual string[] TunedTensors => [];
    internal virtual void Validate(int classes) { }
}
