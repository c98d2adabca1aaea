/** One destination of an image copy (EC2 CopyImage / ECS CopyImage request parameters). */
export interface CopyRequest {
  region: string;
  /** EC2 Name (required there: defaults to "<source AMI> copy"); ECS DestinationImageName. */
  name?: string | undefined;
  /** EC2 Description; ECS DestinationDescription. */
  description?: string | undefined;
  encrypted?: boolean | undefined;
  kmsKeyId?: string | undefined;
  /** ECS only: CopyImage EncryptAlgorithm (e.g. AES256), valid only with encrypted. */
  encryptAlgorithm?: string | undefined;
  /** Set when the job is submitted and persisted with it: a restarted job calls CopyImage with the same token. */
  clientToken?: string | undefined;
}

/** Accounts given launch permission (EC2) or share permission (ECS); `community`: ECS publish as a community image. */
export interface ShareRequest {
  accounts: string[];
  community?: boolean | undefined;
}

/** What runs after an import (or on an existing image): the copies, then the shares of the image and of each copy. */
export interface DistributeRequest {
  copies?: CopyRequest[] | undefined;
  share?: ShareRequest | undefined;
}

export type Cloud = 'aws' | 'ecs';
