/** ModifyImageSharePermission: 10 accounts per call (more are silently ignored), 50 accounts per image. */
export const ECS_SHARE_BATCH = 10;
export const ECS_SHARE_MAX = 50;
