/**
 * The UpscalerJS ESRGAN models the build step converts: which npm package, which scales, and the
 * facts the engine needs about each (architecture, value range) as UpscalerJS 1.0 defines them
 * (packages/shared/src/esrgan/esrgan.ts: RDN takes [0, 255], RRDN takes [0, 1]).
 */
export type EsrganSize = 'slim' | 'medium' | 'thick';

export interface EsrganFamily {
  size: EsrganSize;
  /** 'esrgan-slim' etc.: the id prefix and the manifest family. */
  family: string;
  package: string;
  architecture: 'rdn' | 'rrdn';
  inputRange: [number, number];
  /** One line for the model picker. */
  description: string;
}

export const ESRGAN_SCALES = [2, 3, 4, 8] as const;

export const ESRGAN_FAMILIES: readonly EsrganFamily[] = [
  {
    size: 'slim',
    family: 'esrgan-slim',
    package: '@upscalerjs/esrgan-slim',
    architecture: 'rdn',
    inputRange: [0, 255],
    description: 'Smallest and fastest (RDN, about 1 MB); softest detail.',
  },
  {
    size: 'medium',
    family: 'esrgan-medium',
    package: '@upscalerjs/esrgan-medium',
    architecture: 'rdn',
    inputRange: [0, 255],
    description: 'Balanced speed and detail (RDN, about 3 MB).',
  },
  {
    size: 'thick',
    family: 'esrgan-thick',
    package: '@upscalerjs/esrgan-thick',
    architecture: 'rrdn',
    inputRange: [0, 1],
    description: 'Finest detail, slowest (RRDN, about 29 MB).',
  },
];

export const DEFAULT_MODEL_ID = 'esrgan-medium-x4';

export interface EsrganModelSpec {
  id: string;
  /** Human name, e.g. 'ESRGAN medium ×4'. */
  name: string;
  family: EsrganFamily;
  scale: number;
  /** model.json path inside the package. */
  path: string;
}

export function esrganModelSpecs(): EsrganModelSpec[] {
  return ESRGAN_FAMILIES.flatMap((family) =>
    ESRGAN_SCALES.map((scale) => ({
      id: `${family.family}-x${scale}`,
      name: `ESRGAN ${family.size} ×${scale}`,
      family,
      scale,
      path: `models/x${scale}/model.json`,
    })),
  );
}
