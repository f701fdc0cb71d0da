export * from './common.ts';
export * from './topic.ts';
export * from './messages.ts';
export * from './site.ts';
export * from './api.ts';
export * from './validate.ts';
export { FAMILY_DEFINITIONS, CAMERA_ALERT_KINDS, type FamilyDefinition } from './families/index.ts';
export * from './decisions.ts';
export * from './tickets.ts';
