DROP DATABASE IF EXISTS bench_skewed;
CREATE DATABASE bench_skewed CHARACTER SET utf8mb4;
USE bench_skewed;
SET SESSION sql_log_bin = 0;
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64), email VARCHAR(96), city VARCHAR(32), created DATETIME, KEY (city), KEY (created)) ENGINE=InnoDB;
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, amount DECIMAL(10,2), status VARCHAR(16), note VARCHAR(64), created DATETIME, KEY (customer_id), KEY (created)) ENGINE=InnoDB;
CREATE TABLE order_items (id INT PRIMARY KEY, order_id INT, sku VARCHAR(24), qty INT, price DECIMAL(10,2), KEY (order_id), KEY (sku)) ENGINE=InnoDB;
CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(16), payload VARCHAR(255), created DATETIME, KEY (kind, created)) ENGINE=InnoDB;
CREATE TABLE audit_log (id INT PRIMARY KEY, actor VARCHAR(32), action VARCHAR(32), detail VARCHAR(120), created DATETIME, KEY (actor)) ENGINE=InnoDB;
-- One table holds 85% of the rows: 8,500,000 of 10,000,000.
INSERT INTO customers SELECT seq, CONCAT('客户 ', seq), CONCAT('user', seq, '@example.com'), ELT(1 + seq % 5, 'Beijing', 'Shanghai', 'Shenzhen', 'Hangzhou', 'Chengdu'), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_500000;
INSERT INTO orders SELECT seq, 1 + seq % 500000, (seq % 10000) / 100, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'done'), CONCAT('order note ', MD5(seq)), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_8500000;
INSERT INTO order_items SELECT seq, 1 + seq % 8500000, CONCAT('SKU-', seq % 20000), 1 + seq % 7, (seq % 5000) / 100 FROM seq_1_to_500000;
INSERT INTO events SELECT seq, ELT(1 + seq % 3, 'click', 'view', 'buy'), REPEAT(MD5(seq), 7), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_300000;
INSERT INTO audit_log SELECT seq, CONCAT('admin', seq % 50), ELT(1 + seq % 3, 'login', 'update', 'delete'), REPEAT(SHA1(seq), 2), '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_200000;
