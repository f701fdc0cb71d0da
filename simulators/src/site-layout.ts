import { round } from './random.ts';

/*
 * Where a generated community's devices stand, as a plausible compound plan (the dashboard's
 * 高频点位 plan draws them): compounds on a grid inside their community, buildings in rows
 * inside a compound, a unit's door on its building's south face, the gate on the compound's
 * south edge, fire lanes on the west, sorting points on the east, charging sheds on the north.
 * Offsets are metres from a centre; positions are lat/lng to 6 decimals (~0.1 m).
 */

const M_PER_DEG_LAT = 111_320;
/** Building pitch inside a compound (metres east–west, north–south). */
const BUILDING_DX = 72;
const BUILDING_DY = 46;
/** Unit pitch along a building. */
const UNIT_DX = 14;
/** Compound pitch inside a community. */
const COMPOUND_DX = 330;
const COMPOUND_DY = 240;

export interface LatLng { lat: number; lng: number }

/** `dx` metres east and `dy` metres north of `at`. */
export function offset(at: LatLng, dx: number, dy: number): LatLng {
  return {
    lat: round(at.lat + dy / M_PER_DEG_LAT, 6),
    lng: round(at.lng + dx / (M_PER_DEG_LAT * Math.cos((at.lat * Math.PI) / 180)), 6),
  };
}

/** Column and row of item `i` (0-based) of `n` laid out on a near-square grid, centred on 0. */
function gridSlot(i: number, n: number): { x: number; y: number; cols: number; rows: number } {
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = Math.max(1, Math.ceil(n / cols));
  return { x: (i % cols) - (cols - 1) / 2, y: (rows - 1) / 2 - Math.floor(i / cols), cols, rows };
}

/** The centre of compound `y` (1-based) of `compounds` in a community centred at `community`. */
export function compoundCentre(community: LatLng, y: number, compounds: number): LatLng {
  const s = gridSlot(y - 1, compounds);
  return offset(community, s.x * COMPOUND_DX, s.y * COMPOUND_DY);
}

/** The plan of one compound with `buildings` buildings around `centre`. */
export class CompoundLayout {
  private readonly cols: number;
  private readonly rows: number;
  constructor(private readonly centre: LatLng, private readonly buildings: number) {
    const s = gridSlot(0, buildings);
    this.cols = s.cols;
    this.rows = s.rows;
  }

  private get halfWidth(): number { return (this.cols * BUILDING_DX) / 2; }
  private get halfDepth(): number { return (this.rows * BUILDING_DY) / 2; }

  private building(b: number): { dx: number; dy: number } {
    const s = gridSlot(b - 1, this.buildings);
    return { dx: s.x * BUILDING_DX, dy: s.y * BUILDING_DY };
  }

  /** Unit `u` (1-based) of `units` in building `b`: its door on the south face. */
  door(b: number, u: number, units: number): LatLng {
    const at = this.building(b);
    return offset(this.centre, at.dx + (u - 1 - (units - 1) / 2) * UNIT_DX, at.dy - 6);
  }

  /** The lift car of a unit: inside the building, behind its door. */
  lift(b: number, u: number, units: number): LatLng {
    const at = this.building(b);
    return offset(this.centre, at.dx + (u - 1 - (units - 1) / 2) * UNIT_DX, at.dy + 2);
  }

  /** A façade camera: on the ground south of the building, looking up. */
  facade(b: number): LatLng {
    const at = this.building(b);
    return offset(this.centre, at.dx, at.dy - 16);
  }

  /** Gate `g` of `gates` on the south edge. */
  gate(g: number, gates: number): LatLng {
    return offset(this.centre, (g - (gates + 1) / 2) * 60, -this.halfDepth - 18);
  }

  /** Fire lane `l` of `lanes` along the west edge. */
  lane(l: number, lanes: number): LatLng {
    return offset(this.centre, -this.halfWidth - 14, ((lanes + 1) / 2 - l) * 36);
  }

  /** Sorting point `p` of `points` along the east edge; `slot` 0 is its camera, 1.. its bins. */
  sortingPoint(p: number, points: number, slot: number): LatLng {
    return offset(this.centre, this.halfWidth + 16 + slot * 3, ((points + 1) / 2 - p) * 40);
  }

  /** Charging post `k` (1-based, 4 to a shed) of `posts` along the north edge. */
  chargingPost(k: number, posts: number): LatLng {
    const sheds = Math.ceil(posts / 4);
    const shed = Math.ceil(k / 4);
    return offset(this.centre, (shed - (sheds + 1) / 2) * 50 + (((k - 1) % 4) - 1.5) * 5, this.halfDepth + 18);
  }
}
