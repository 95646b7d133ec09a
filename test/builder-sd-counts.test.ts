/**
 * The SD builder's architectures from their configs alone (no weights allocated): parameter counts
 * equal the published figures, tensor names and shapes are diffusers', unsupported options fail.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseUnetConfig } from '../tools/builder/architectures/sd-unet/config.ts';
import { planUnet, unetTensorSpecs } from '../tools/builder/architectures/sd-unet/plan.ts';
import { parseVaeConfig } from '../tools/builder/architectures/sd-vae/config.ts';
import { planVae, vaeTensorSpecs } from '../tools/builder/architectures/sd-vae/plan.ts';
import { presetUnetConfig, presetVaeConfig } from '../tools/builder/presets/index.ts';
import { countParameters, type TensorSpec } from '../tools/builder/weight-source.ts';

const unetSpecs = (preset: 'sd21' | 'gendr') => unetTensorSpecs(planUnet(presetUnetConfig(preset)));
const vaeSpecs = (preset: 'sd21' | 'gendr') => vaeTensorSpecs(planVae(presetVaeConfig(preset)));
const shapeOf = (specs: TensorSpec[], name: string) => specs.find((s) => s.name === name)?.shape;

describe('parameter counts from the config', () => {
  it('SD 2.1 UNet: 865,910,724 in 686 tensors', () => {
    const specs = unetSpecs('sd21');
    expect(countParameters(specs)).toBe(865_910_724);
    expect(specs.length).toBe(686);
  });

  it('SD 2.1 UNet with 16 input and output channels (GenDR): 865,979,856', () => {
    expect(countParameters(unetSpecs('gendr'))).toBe(865_979_856);
  });

  it('SD VAE ([128, 256, 512, 512], 4 channels): 83,653,863 in 248 tensors', () => {
    const specs = vaeSpecs('sd21');
    expect(countParameters(specs)).toBe(83_653_863);
    expect(specs.length).toBe(248);
  });

  it('ostris VAE16 ([128, 128, 256, 512], 16 channels): 57,266,643', () => {
    expect(countParameters(vaeSpecs('gendr'))).toBe(57_266_643);
  });
});

describe('diffusers tensor names and shapes', () => {
  it('UNet: linear projections, cross-attention, GEGLU, skip-concat resnets, samplers', () => {
    const s = unetSpecs('gendr');
    expect(shapeOf(s, 'conv_in.weight')).toEqual([320, 16, 3, 3]);
    expect(shapeOf(s, 'time_embedding.linear_1.weight')).toEqual([1280, 320]);
    expect(shapeOf(s, 'down_blocks.0.attentions.0.proj_in.weight')).toEqual([320, 320]);
    const tb = 'down_blocks.1.attentions.1.transformer_blocks.0';
    expect(shapeOf(s, `${tb}.attn2.to_k.weight`)).toEqual([640, 1024]);
    expect(shapeOf(s, `${tb}.attn1.to_q.bias`)).toBeUndefined();
    expect(shapeOf(s, `${tb}.attn1.to_out.0.bias`)).toEqual([640]);
    expect(shapeOf(s, `${tb}.ff.net.0.proj.weight`)).toEqual([5120, 640]);
    expect(shapeOf(s, `${tb}.ff.net.2.weight`)).toEqual([640, 2560]);
    expect(shapeOf(s, 'down_blocks.1.resnets.0.conv_shortcut.weight')).toEqual([640, 320, 1, 1]);
    expect(shapeOf(s, 'down_blocks.2.downsamplers.0.conv.weight')).toEqual([1280, 1280, 3, 3]);
    expect(shapeOf(s, 'down_blocks.3.downsamplers.0.conv.weight')).toBeUndefined();
    expect(shapeOf(s, 'down_blocks.3.attentions.0.norm.weight')).toBeUndefined();
    expect(shapeOf(s, 'mid_block.attentions.0.transformer_blocks.0.attn1.to_v.weight')).toEqual([
      1280, 1280,
    ]);
    // Up blocks: 3 resnets each, input = previous output + skip.
    expect(shapeOf(s, 'up_blocks.0.resnets.2.conv1.weight')).toEqual([1280, 2560, 3, 3]);
    expect(shapeOf(s, 'up_blocks.1.resnets.2.conv1.weight')).toEqual([1280, 1920, 3, 3]);
    expect(shapeOf(s, 'up_blocks.3.resnets.0.conv1.weight')).toEqual([320, 960, 3, 3]);
    expect(shapeOf(s, 'up_blocks.3.resnets.2.conv_shortcut.weight')).toEqual([320, 640, 1, 1]);
    expect(shapeOf(s, 'up_blocks.2.upsamplers.0.conv.weight')).toEqual([640, 640, 3, 3]);
    expect(shapeOf(s, 'up_blocks.3.upsamplers.0.conv.weight')).toBeUndefined();
    expect(shapeOf(s, 'conv_out.weight')).toEqual([16, 320, 3, 3]);
  });

  it('UNet with use_linear_projection false has 1×1 conv projections', () => {
    const cfg = parseUnetConfig({ ...sd21Json(), use_linear_projection: false });
    const s = unetTensorSpecs(planUnet(cfg));
    expect(shapeOf(s, 'up_blocks.3.attentions.2.proj_out.weight')).toEqual([320, 320, 1, 1]);
  });

  it('VAE: encoder to mean and log-variance, quant convs, single-head mid attention', () => {
    const s = vaeSpecs('gendr');
    expect(shapeOf(s, 'encoder.conv_out.weight')).toEqual([32, 512, 3, 3]);
    expect(shapeOf(s, 'quant_conv.weight')).toEqual([32, 32, 1, 1]);
    expect(shapeOf(s, 'post_quant_conv.weight')).toEqual([16, 16, 1, 1]);
    expect(shapeOf(s, 'decoder.conv_in.weight')).toEqual([512, 16, 3, 3]);
    expect(shapeOf(s, 'encoder.mid_block.attentions.0.to_q.bias')).toEqual([512]);
    expect(shapeOf(s, 'encoder.mid_block.attentions.0.group_norm.weight')).toEqual([512]);
    expect(shapeOf(s, 'encoder.down_blocks.2.resnets.0.conv_shortcut.weight')).toEqual([
      256, 128, 1, 1,
    ]);
    expect(shapeOf(s, 'decoder.up_blocks.0.resnets.2.conv1.weight')).toEqual([512, 512, 3, 3]);
    expect(shapeOf(s, 'decoder.up_blocks.2.resnets.0.conv1.weight')).toEqual([128, 256, 3, 3]);
    expect(shapeOf(s, 'decoder.up_blocks.3.upsamplers.0.conv.weight')).toBeUndefined();
    expect(shapeOf(s, 'decoder.conv_out.weight')).toEqual([3, 128, 3, 3]);
  });

  it('VAE without quant convs or mid attention drops those tensors', () => {
    const cfg = parseVaeConfig({
      ...sd21VaeJson(),
      use_quant_conv: false,
      use_post_quant_conv: false,
      mid_block_add_attention: false,
    });
    const s = vaeTensorSpecs(planVae(cfg));
    expect(s.some((t) => t.name.includes('quant_conv') || t.name.includes('attentions'))).toBe(
      false,
    );
  });
});

function sd21Json(): Record<string, unknown> {
  return {
    attention_head_dim: [5, 10, 20, 20],
    block_out_channels: [320, 640, 1280, 1280],
    cross_attention_dim: 1024,
    use_linear_projection: true,
  };
}

function sd21VaeJson(): Record<string, unknown> {
  return {
    block_out_channels: [128, 256, 512, 512],
    layers_per_block: 2,
    latent_channels: 4,
    down_block_types: Array(4).fill('DownEncoderBlock2D'),
    up_block_types: Array(4).fill('UpDecoderBlock2D'),
  };
}

describe('config checks', () => {
  it('rejects options the builder does not implement, by name', () => {
    expect(() =>
      parseUnetConfig({
        ...sd21Json(),
        class_embed_type: 'timestep',
        addition_embed_type: 'text_time',
      }),
    ).toThrow(/class_embed_type = "timestep".*addition_embed_type = "text_time"/);
    expect(() =>
      parseUnetConfig({
        ...sd21Json(),
        down_block_types: [
          'SimpleCrossAttnDownBlock2D',
          'DownBlock2D',
          'DownBlock2D',
          'DownBlock2D',
        ],
      }),
    ).toThrow(/SimpleCrossAttnDownBlock2D is not supported/);
    expect(() => parseVaeConfig({ _class_name: 'AutoencoderTiny' })).toThrow(ConfigError);
  });

  it('rejects inconsistent configs', () => {
    expect(() => parseUnetConfig({ ...sd21Json(), attention_head_dim: [5, 10, 20] })).toThrow(
      /attention_head_dim/,
    );
    expect(() => parseUnetConfig({ ...sd21Json(), attention_head_dim: 7 })).toThrow(
      /multiple of its 7 heads/,
    );
    expect(() => parseVaeConfig({ ...sd21VaeJson(), norm_num_groups: 24 })).toThrow(
      /norm_num_groups/,
    );
  });

  it('reads diffusers defaults for absent keys', () => {
    const cfg = parseUnetConfig({});
    expect(cfg.blockOutChannels).toEqual([320, 640, 1280, 1280]);
    expect(cfg.heads).toEqual([8, 8, 8, 8]);
    expect(cfg.flipSinToCos).toBe(true);
    expect(parseVaeConfig({}).latentChannels).toBe(4);
  });
});
