namespace GraphActors.Models;

public static class ModelFactory
{
    /// <summary>Builds the model named by <see cref="ModelConfig.ModelType"/>; the config is validated first.</summary>
    public static HeteroGnn Create(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.ModelType switch
        {
            ModelType.Sage => new HeteroGraphSAGE(config),
            ModelType.Gat => new HeteroGAT(config),
            ModelType.Rgcn => new RGCN(config),
            _ => throw new ArgumentOutOfRangeException(nameof(config), config.ModelType, "Unknown model type."),
        };
    }
}
