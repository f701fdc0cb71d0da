import { Type, type Static } from '@sinclair/typebox';

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), JSON flavour: the field list
// of each response, as the spec names them. hub/src/open311 fills them from tickets.

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Str = Type.String();
const Iso = Type.String({ format: 'date-time' });

export const Open311Service = Type.Object({
  service_code: Str,
  service_name: Str,
  description: Str,
  /** No extra attributes: the core fields are all a complaint needs. */
  metadata: Type.Boolean(),
  type: Type.Union([Type.Literal('realtime'), Type.Literal('batch'), Type.Literal('blackbox')]),
  keywords: Str,
  group: Str,
});
export type Open311Service = Static<typeof Open311Service>;

export const OPEN311_STATUSES = ['open', 'closed'] as const;

export const Open311Request = Type.Object({
  service_request_id: Str,
  status: Type.Union(OPEN311_STATUSES.map((s) => Type.Literal(s))),
  status_notes: Nullable(Str),
  service_name: Str,
  service_code: Str,
  description: Nullable(Str),
  agency_responsible: Nullable(Str),
  service_notice: Nullable(Str),
  requested_datetime: Iso,
  updated_datetime: Iso,
  expected_datetime: Nullable(Iso),
  address: Nullable(Str),
  address_id: Nullable(Str),
  zipcode: Nullable(Str),
  lat: Type.Union([Type.Number(), Type.Null()]),
  long: Type.Union([Type.Number(), Type.Null()]),
  media_url: Nullable(Str),
});
export type Open311Request = Static<typeof Open311Request>;

/** POST requests.json answer: the new id, and a notice (the proactive ticket it joined, if any). */
export const Open311Created = Type.Object({
  service_request_id: Str,
  service_notice: Nullable(Str),
  account_id: Nullable(Str),
});
export type Open311Created = Static<typeof Open311Created>;

/** Errors are a list of {code, description}, with the HTTP status as code. */
export const Open311Error = Type.Object({ code: Type.Integer(), description: Str });
export type Open311Error = Static<typeof Open311Error>;

export const Open311RequestsQuery = Type.Object({
  api_key: Type.Optional(Type.String({ maxLength: 200 })),
  jurisdiction_id: Type.Optional(Type.String({ maxLength: 64 })),
  service_request_id: Type.Optional(Type.String({ maxLength: 2000, description: 'comma-separated ids' })),
  service_code: Type.Optional(Type.String({ maxLength: 500, description: 'comma-separated codes' })),
  start_date: Type.Optional(Iso),
  end_date: Type.Optional(Iso),
  status: Type.Optional(Type.String({ maxLength: 20, description: 'open, closed, or open,closed' })),
}, { additionalProperties: false });
export type Open311RequestsQuery = Static<typeof Open311RequestsQuery>;

/** POST requests.json, form-encoded. Place: address_id (a grid cell id) or lat/long. */
export const Open311PostBody = Type.Object({
  api_key: Type.Optional(Type.String({ maxLength: 200 })),
  jurisdiction_id: Type.Optional(Type.String({ maxLength: 64 })),
  service_code: Type.String({ minLength: 1, maxLength: 64 }),
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  long: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  address_string: Type.Optional(Type.String({ maxLength: 500 })),
  address_id: Type.Optional(Type.String({ maxLength: 64 })),
  email: Type.Optional(Type.String({ maxLength: 200 })),
  device_id: Type.Optional(Type.String({ maxLength: 200 })),
  account_id: Type.Optional(Type.String({ maxLength: 200 })),
  first_name: Type.Optional(Type.String({ maxLength: 100 })),
  last_name: Type.Optional(Type.String({ maxLength: 100 })),
  phone: Type.Optional(Type.String({ maxLength: 50 })),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  media_url: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type Open311PostBody = Static<typeof Open311PostBody>;
