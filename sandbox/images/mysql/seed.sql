-- Seed data for the sandbox: a few tables in each ODS database, so that the
-- manual's SHOW TABLES, information_schema sizes and restores have something real.
USE one_data_bisheng;
CREATE TABLE flow (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  description TEXT,
  status TINYINT NOT NULL DEFAULT 1,
  create_time DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY idx_flow_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE knowledge (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  collection_name VARCHAR(128) NOT NULL,
  model VARCHAR(64) NOT NULL,
  create_time DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE message (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  flow_id INT UNSIGNED NOT NULL,
  sender VARCHAR(32) NOT NULL,
  content TEXT NOT NULL,
  create_time DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY idx_message_flow (flow_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO flow (name, description) VALUES
  ('客服助手', '基于知识库的问答'), ('文档摘要', 'Summarise uploaded documents'), ('SQL 生成', 'Text to SQL');
INSERT INTO knowledge (name, collection_name, model) VALUES
  ('产品手册', 'ods_docs', 'text-embedding-ada-002'), ('FAQ', 'ods_faq', 'text-embedding-ada-002');
INSERT INTO message (flow_id, sender, content) VALUES
  (1, 'user', '如何重置密码？'), (1, 'bot', '请在设置页面点击“重置密码”。'), (2, 'user', 'Summarise the Q3 report');

USE one_data_alldata;
CREATE TABLE datasource (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  kind VARCHAR(32) NOT NULL,
  create_time DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE job_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job VARCHAR(64) NOT NULL,
  status VARCHAR(16) NOT NULL,
  detail TEXT,
  create_time DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY idx_job_log_time (create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO datasource (name, kind) VALUES ('订单库', 'mysql'), ('日志湖', 'hive');
INSERT INTO job_log (job, status) VALUES ('sync_orders', 'success'), ('sync_logs', 'failed');
