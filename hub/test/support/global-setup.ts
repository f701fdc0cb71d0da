// Placeholder until the PostgreSQL test-server harness lands (store helper).
export default function setup(): void {}
