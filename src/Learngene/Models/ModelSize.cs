using TorchSharp;

namespace Learngene.Models;

/// <summary>Size of any module, whatever its family.</summary>
public static class ModelSize
{
    /// <summary>Every parameter's element count (frozen ones included; buffers not).</summary>
    public static long ParameterCount(this torch.nn.Module model) => model.parameters().Sum(p => p.numel());
}
