export { queueNames, type QueueName } from './names.js';
export {
  jobCatalog,
  parseJobData,
  releaseEventJobId,
  type JobData,
  type JobDefinition,
  type JobName,
} from './catalog.js';
export { createRedis, pingRedis, redisConnected, type RedisRole } from './connection.js';
export { JobProducer } from './producer.js';
