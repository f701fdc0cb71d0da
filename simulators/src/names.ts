/*
 * Name material for generated communities: Chinese names with their pinyin so every grid
 * cell has `name` (zh) and `nameEn`. Plain, common words; no real addresses are implied.
 */
import type { Rng } from './random.ts';

export interface ZhEn { zh: string; en: string }

export const PLACE_STEMS: readonly ZhEn[] = [
  { zh: '金谷', en: 'Jingu' }, { zh: '林荫', en: 'Linyin' }, { zh: '承平', en: 'Chengping' },
  { zh: '建西', en: 'Jianxi' }, { zh: '翠园', en: 'Cuiyuan' }, { zh: '向阳', en: 'Xiangyang' },
  { zh: '和平', en: 'Heping' }, { zh: '绿谷', en: 'Lvgu' }, { zh: '康乐', en: 'Kangle' },
  { zh: '幸福', en: 'Xingfu' }, { zh: '安华', en: 'Anhua' }, { zh: '春晖', en: 'Chunhui' },
  { zh: '丽景', en: 'Lijing' }, { zh: '长青', en: 'Changqing' }, { zh: '朝霞', en: 'Zhaoxia' },
  { zh: '松柏', en: 'Songbai' }, { zh: '新桥', en: 'Xinqiao' }, { zh: '东湖', en: 'Donghu' },
];

export const COMPOUND_SUFFIXES: readonly ZhEn[] = [
  { zh: '东园', en: 'Dongyuan' }, { zh: '西园', en: 'Xiyuan' }, { zh: '南里', en: 'Nanli' },
  { zh: '北里', en: 'Beili' }, { zh: '家园', en: 'Jiayuan' }, { zh: '花园', en: 'Garden' },
  { zh: '小区', en: 'Estate' }, { zh: '新村', en: 'Xincun' }, { zh: '雅苑', en: 'Yayuan' },
  { zh: '嘉园', en: 'Jia Garden' },
];

const CN_NUMERALS = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/** Names a compound: stem + suffix, then "二区/三区…" once the suffixes run out. */
export function compoundName(stem: ZhEn, index: number): ZhEn {
  const suffix = COMPOUND_SUFFIXES[index % COMPOUND_SUFFIXES.length]!;
  const round = Math.floor(index / COMPOUND_SUFFIXES.length);
  const zhRound = round === 0 ? '' : `${CN_NUMERALS[round + 1] ?? String(round + 1)}区`;
  const enRound = round === 0 ? '' : ` Zone ${round + 1}`;
  return { zh: `${stem.zh}${suffix.zh}${zhRound}`, en: `${stem.en} ${suffix.en}${enRound}` };
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '马', '朱', '胡', '郭', '何', '高', '林', '罗'];
const GIVEN = ['建国', '秀英', '丽', '伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇', '艳', '杰', '涛', '明', '超', '秀兰', '霞', '平', '刚', '桂英', '志强', '淑珍', '海燕', '国华', '玉兰'];

export function personName(rng: Rng): string {
  return `${rng.pick(SURNAMES)}${rng.pick(GIVEN)}`;
}

export function unitName(building: number, unit: number): ZhEn {
  return { zh: `${building}号楼${unit}单元`, en: `Bldg ${building} Unit ${unit}` };
}
